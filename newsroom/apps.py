from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NewsroomConfig(AppConfig):
    name = "newsroom"
    verbose_name = _("Newsroom")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from tracking import hooks
        from tracking.signals import case_changed

        from . import receivers

        hooks.register("create_story", receivers.create_story)
        case_changed.connect(receivers.on_case_changed, dispatch_uid="newsroom-case")
        receivers.connect_page_signals()
