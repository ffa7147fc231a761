from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _
from wagtail.signals import page_published, page_unpublished

from tracking import hooks
from tracking.signals import (
    case_changed,
    case_event_recorded,
    statistics_changed,
    working_day_ended,
)


class NewsroomConfig(AppConfig):
    name = "newsroom"
    verbose_name = _("Newsroom")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # receivers imports the models, which need the ready app registry.
        from . import receivers

        hooks.register("create_story", receivers.create_story)
        hooks.register("get_story", receivers.get_story)
        hooks.register("without_story", receivers.without_story)
        hooks.register("story_cases_editable_by", receivers.story_cases_editable_by)
        case_changed.connect(receivers.on_case_changed, dispatch_uid="newsroom-case")
        case_event_recorded.connect(
            receivers.on_case_event_recorded, dispatch_uid="newsroom-case-event"
        )
        statistics_changed.connect(
            receivers.on_statistics_changed, dispatch_uid="newsroom-statistics"
        )
        working_day_ended.connect(
            receivers.on_working_day_ended, dispatch_uid="newsroom-working-day"
        )
        receivers.defer_workflow_mail()
        # The search index first: the page cache is invalidated after it, so a
        # page cached in between cannot hold results from the old index.
        self.connect_search_index()
        receivers.connect_page_signals()

    def connect_search_index(self):
        # Models and search (which imports them) need the ready app registry.
        from wagtail.models import Page

        from tracking.models import CensorRule, Citizen

        from . import search

        page_published.connect(
            search.on_page_published, dispatch_uid="newsroom-search-published"
        )
        page_unpublished.connect(
            search.on_page_unpublished, dispatch_uid="newsroom-search-unpublished"
        )
        post_delete.connect(
            search.on_page_deleted, sender=Page, dispatch_uid="newsroom-search-deleted"
        )
        for signal, suffix in ((post_save, "saved"), (post_delete, "deleted")):
            signal.connect(
                search.on_censor_rule_changed,
                sender=CensorRule,
                dispatch_uid=f"newsroom-search-censor-rule-{suffix}",
            )
        post_save.connect(
            search.on_citizen_changed,
            sender=Citizen,
            dispatch_uid="newsroom-search-citizen",
        )
