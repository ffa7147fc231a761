"""Wagtail pages of the city newspaper: home, columns, Hot Tracking stories.

A :class:`HotTrackingPage` is bound to one :class:`tracking.models.Case`; its
status, department and public timeline are read live from the case whenever the
page is rendered, so a department's answer shows without an editor touching it.
"""

from __future__ import annotations

from django.conf import settings
from django.core.paginator import Paginator
from django.db import models
from django.utils.functional import SimpleLazyObject, cached_property
from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.contrib.routable_page.models import RoutablePageMixin, re_path
from wagtail.fields import RichTextField, StreamField
from wagtail.images.blocks import ImageBlock
from wagtail.models import Page
from wagtail.search import index

from tracking.models import Department, State

from .panels import CaseTimelinePanel

STORIES_PER_PAGE = 10


class StoryStatus(models.TextChoices):
    TRACKING = "tracking", _("Tracking")
    REPLIED = "replied", _("Department replied")
    RESOLVED = "resolved", _("Resolved")


# How a case's state reads to the public on a story.
STATUS_STATES = {
    StoryStatus.REPLIED: (State.REPLIED,),
    StoryStatus.RESOLVED: (State.CLOSED, State.WITHDRAWN),
}
STATUS_STATES[StoryStatus.TRACKING] = tuple(
    s for s in State if s not in STATUS_STATES[StoryStatus.REPLIED]
    and s not in STATUS_STATES[StoryStatus.RESOLVED]
)


def status_of(state: str) -> str:
    for status, states in STATUS_STATES.items():
        if state in states:
            return status
    return StoryStatus.TRACKING


class BodyBlock(blocks.StreamBlock):
    paragraph = blocks.RichTextBlock(
        label=_("Paragraph"), features=["bold", "italic", "link", "ol", "ul", "h3"]
    )
    image = ImageBlock(label=_("Image"))
    quote = blocks.StructBlock(
        [
            ("text", blocks.TextBlock(label=_("Quote"))),
            ("attribution", blocks.CharBlock(label=_("Attribution"), required=False)),
        ],
        label=_("Quote"),
        icon="openquote",
        template="newsroom/blocks/quote.html",
    )


class CachedPageMixin:
    """Marks the page's public responses as cacheable (see newsroom.cache)."""

    def serve(self, request, *args, **kwargs):
        from .cache import CACHEABLE

        response = super().serve(request, *args, **kwargs)
        if not getattr(request, "is_preview", False) and not (
            self.get_view_restrictions().exists()
        ):
            setattr(response, CACHEABLE, True)
        return response

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["print_view"] = request.GET.get("print") == "1"
        # Lazy: subclasses add what they list after this runs.
        context["redaction_rules"] = SimpleLazyObject(
            lambda: self.redaction_rules(context)
        )
        return context

    def redaction_rules(self, context) -> list:
        """Rules for everything this page shows: automatic masks always apply;
        here, the global censor rules (pages about a case add its own)."""
        from tracking.redaction import censor_rules

        return censor_rules()

    @staticmethod
    def rules_of_listed(items) -> list:
        """Global rules plus those of every case behind the listed stories."""
        from tracking.redaction import rules_for_cases

        cases = [item.case for item in items if getattr(item, "case_id", None)]
        by_case = rules_for_cases(cases)
        rules = list(by_case[None])
        for case in cases:
            rules.extend(r for r in by_case[case.pk] if r not in rules)
        return rules


class PrintEditionMixin(models.Model):
    print_date = models.DateField(_("print edition date"), null=True, blank=True)
    print_page = models.CharField(
        _("print page (版面)"), max_length=20, blank=True,
        help_text=_("For example A03."),
    )

    class Meta:
        abstract = True


class HomePage(CachedPageMixin, Page):
    intro = RichTextField(_("introduction"), blank=True)

    content_panels = [*Page.content_panels, "intro"]
    subpage_types = ["newsroom.ColumnPage"]
    parent_page_types = ["wagtailcore.Page"]
    max_count = 1

    class Meta:
        verbose_name = _("home page")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["stories"] = list(
            HotTrackingPage.objects.live()
            .public()
            .select_related("case", "case__department", "case__citizen")
            .order_by("-first_published_at")[:6]
        )
        context["columns"] = ColumnPage.objects.live().public().child_of(self)
        return context

    def redaction_rules(self, context):
        return self.rules_of_listed(context["stories"])


class ColumnPage(CachedPageMixin, RoutablePageMixin, Page):
    """A column (专栏): Hot Tracking first, others such as a growers' column."""

    intro = RichTextField(_("introduction"), blank=True)
    is_hot_tracking = models.BooleanField(
        _("Hot Tracking column"), default=False,
        help_text=_("Escalated cases get their story drafts in this column."),
    )

    content_panels = [*Page.content_panels, "intro"]
    settings_panels = [*Page.settings_panels, "is_hot_tracking"]
    subpage_types = ["newsroom.YearIndexPage"]
    parent_page_types = ["newsroom.HomePage"]

    class Meta:
        verbose_name = _("column")
        verbose_name_plural = _("columns")

    @re_path(r"^feed/(?P<kind>rss|atom)/$", name="feed")
    def feed(self, request, kind):
        """RSS or Atom feed of the column's latest stories (newsroom.feeds)."""
        from .feeds import column_feed

        return column_feed(request, self, kind)

    def stories(self):
        """Live public stories and articles of this column, newest first."""
        return (
            Page.objects.live()
            .public()
            .descendant_of(self)
            .type(HotTrackingPage, ArticlePage)
            .filter(depth=self.depth + 2)
            .order_by("-first_published_at", "-pk")
        )

    def filtered_stories(self, params):
        """:meth:`stories` narrowed by status, department and year from ``params``."""
        pages = self.stories()
        status = params.get("status")
        department = params.get("department", "")
        year = params.get("year", "")
        if status in STATUS_STATES:
            pages = pages.filter(hottrackingpage__case__state__in=STATUS_STATES[status])
        if department.isdigit():
            pages = pages.filter(hottrackingpage__case__department_id=int(department))
        if year.isdigit():
            pages = pages.filter(first_published_at__year=int(year))
        return pages

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        paginator = Paginator(self.filtered_stories(request.GET), STORIES_PER_PAGE)
        # Not a number: the first page; past the end: the last.
        page_obj = paginator.get_page(request.GET.get("page"))
        context["page_obj"] = page_obj
        context["items"] = load_specific_items(page_obj.object_list)
        context["statuses"] = StoryStatus.choices
        context["departments"] = Department.objects.filter(
            cases__story__live=True
        ).distinct()
        return context

    def redaction_rules(self, context):
        return self.rules_of_listed(context.get("items", []))


def load_specific_items(pages):
    """Specific pages for a listing, with their cases, in a fixed number of queries."""
    ids = [p.pk for p in pages]
    stories = {
        s.pk: s
        for s in HotTrackingPage.objects.filter(pk__in=ids).select_related(
            "case", "case__department", "case__citizen"
        )
    }
    articles = {a.pk: a for a in ArticlePage.objects.filter(pk__in=ids)}
    specific = {**articles, **stories}
    return [specific[pk] for pk in ids if pk in specific]


class YearIndexPage(CachedPageMixin, Page):
    """One year of a column, so that no parent page collects millions of children."""

    year = models.PositiveSmallIntegerField(_("year"))

    subpage_types = ["newsroom.HotTrackingPage", "newsroom.ArticlePage"]
    parent_page_types = ["newsroom.ColumnPage"]

    class Meta:
        verbose_name = _("year index")


class ArticlePage(CachedPageMixin, PrintEditionMixin, Page):
    """An ordinary column article."""

    standfirst = models.TextField(_("standfirst"), blank=True)
    body = StreamField(BodyBlock(), verbose_name=_("body"), blank=True)

    content_panels = [*Page.content_panels, "standfirst", "body", "print_date",
                      "print_page"]
    search_fields = [
        *Page.search_fields,
        index.SearchField("standfirst"),
        index.SearchField("body"),
    ]
    subpage_types = []
    parent_page_types = ["newsroom.YearIndexPage"]

    class Meta:
        verbose_name = _("article")
        verbose_name_plural = _("articles")


class HotTrackingPage(CachedPageMixin, PrintEditionMixin, Page):
    """A Hot Tracking story (热点追踪报道), bound to one case for life."""

    case = models.OneToOneField(
        "tracking.Case",
        verbose_name=_("case"),
        on_delete=models.PROTECT,
        related_name="story",
    )
    standfirst = models.TextField(_("standfirst"), blank=True)
    body = StreamField(BodyBlock(), verbose_name=_("body"), blank=True)

    content_panels = [
        *Page.content_panels,
        "standfirst",
        "body",
        "print_date",
        "print_page",
        CaseTimelinePanel(heading=_("The case")),
    ]
    subpage_types = ["newsroom.FollowUpPage"]
    parent_page_types = ["newsroom.YearIndexPage"]

    class Meta:
        verbose_name = _("Hot Tracking story")
        verbose_name_plural = _("Hot Tracking stories")

    @cached_property
    def status(self) -> str:
        return status_of(self.case.state)

    def get_context(self, request, *args, **kwargs):
        from tracking.redaction import rules_for

        from .selectors import story_facts

        context = super().get_context(request, *args, **kwargs)
        # One read of the case's rules serves the timeline and the page redaction.
        self._rules = rules_for(self.case)
        context["facts"] = story_facts(self, rules=self._rules)
        context["follow_ups"] = FollowUpPage.objects.live().public().child_of(self)
        return context

    def redaction_rules(self, context):
        from tracking.redaction import rules_for

        rules = getattr(self, "_rules", None)
        return rules if rules is not None else rules_for(self.case)

    @property
    def status_label(self):
        return StoryStatus(self.status).label


class FollowUpPage(CachedPageMixin, PrintEditionMixin, Page):
    """A follow-up report (追踪报道) under a Hot Tracking story."""

    standfirst = models.TextField(_("standfirst"), blank=True)
    body = StreamField(BodyBlock(), verbose_name=_("body"), blank=True)

    content_panels = [*Page.content_panels, "standfirst", "body", "print_date",
                      "print_page"]
    subpage_types = []
    parent_page_types = ["newsroom.HotTrackingPage"]

    def redaction_rules(self, context):
        from tracking.redaction import rules_for

        story = HotTrackingPage.objects.filter(
            pk=self.get_parent().pk
        ).select_related("case__citizen").first()
        return rules_for(story.case if story else None)

    class Meta:
        verbose_name = _("follow-up report")
        verbose_name_plural = _("follow-up reports")


class EditorNotice(models.Model):
    """A note to an editor in the admin: a story's case moved, follow up."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
        related_name="editor_notices",
    )
    story = models.ForeignKey(
        HotTrackingPage, on_delete=models.CASCADE, related_name="notices"
    )
    message = models.CharField(_("message"), max_length=255)
    event_id = models.BigIntegerField(_("case event"), null=True, blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("editor notice")
        verbose_name_plural = _("editor notices")
        constraints = [
            # One notice per user and case event: a repeated signal adds nothing.
            models.UniqueConstraint(
                fields=["user", "event_id"], name="editor_notice_once_per_event"
            )
        ]

    def __str__(self):
        return self.message


class SearchTerm(models.Model):
    """One segmented word of a live page: the Chinese full-text index.

    The database search backends do not segment Chinese, so pages are cut into
    words with jieba when published and queries are cut the same way.
    """

    page = models.ForeignKey(
        "wagtailcore.Page", on_delete=models.CASCADE, related_name="+"
    )
    term = models.CharField(max_length=64)
    weight = models.PositiveSmallIntegerField(default=1)

    class Meta:
        indexes = [models.Index(fields=["term", "page"], name="search_term_idx")]
        constraints = [
            models.UniqueConstraint(fields=["page", "term"], name="search_term_once")
        ]

