from django.apps import AppConfig
from django.db import transaction
from django.db.models.signals import post_delete, post_init, post_save
from django.utils.translation import gettext_lazy as _

from .redaction import forget_censor_rules


class TrackingConfig(AppConfig):
    name = "tracking"
    verbose_name = _("Case tracking")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Models need the ready app registry: not importable at the top of apps.py.
        from .models import Call, Case, CensorRule, Citizen
        from .partners.models import CommunityVisit
        from .statistics import receivers

        post_init.connect(
            receivers.call_loaded, sender=Call, dispatch_uid="stats-call-init"
        )
        post_save.connect(
            receivers.call_saved, sender=Call, dispatch_uid="stats-call-save"
        )
        post_delete.connect(
            receivers.call_deleted, sender=Call, dispatch_uid="stats-call-delete"
        )
        for model, name in ((Case, "case"), (Citizen, "citizen")):
            post_init.connect(
                getattr(receivers, f"{name}_loaded"),
                sender=model,
                dispatch_uid=f"stats-{name}-init",
            )
            post_save.connect(
                getattr(receivers, f"{name}_saved"),
                sender=model,
                dispatch_uid=f"stats-{name}-save",
            )
            post_delete.connect(
                getattr(receivers, f"{name}_deleted"),
                sender=model,
                dispatch_uid=f"stats-{name}-delete",
            )
        post_delete.connect(
            receivers.visit_deleted,
            sender=CommunityVisit,
            dispatch_uid="stats-visit-delete",
        )

        for signal, suffix in ((post_save, "saved"), (post_delete, "deleted")):
            signal.connect(
                _forget_censor_rules,
                sender=CensorRule,
                dispatch_uid=f"tracking-censor-cache-{suffix}",
            )


def _forget_censor_rules(sender, instance, **kwargs):
    """Now, and after the commit: a list read in between holds the old rules."""
    case_ids = instance.affected_case_ids()
    forget_censor_rules(case_ids)
    transaction.on_commit(lambda: forget_censor_rules(case_ids))
