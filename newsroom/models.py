"""Wagtail pages of the city newspaper: home, columns, Hot Tracking stories.

A :class:`HotTrackingPage` is bound to one :class:`tracking.models.Case`; its
status, department and public timeline are read live from the case whenever the
page is rendered, so a department's answer shows without an editor touching it.
"""

from __future__ import annotations

from typing import NamedTuple
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.paginator import Paginator
from django.db import models
from django.db.models import Exists, OuterRef
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.contrib.routable_page.models import RoutablePageMixin, path, re_path
from wagtail.fields import RichTextField, StreamField
from wagtail.images.blocks import ImageBlock
from wagtail.models import Page, PageViewRestriction
from wagtail.search import index

from tracking.models import Department, State
from tracking.redaction import censor_rules, rules_for, rules_for_cases
from tracking.statistics import periods
from tracking.statistics.figures import Report

from . import cache, public, sites
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
    s
    for s in State
    if s not in STATUS_STATES[StoryStatus.REPLIED]
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
    # A boxed section set apart from the body: the reporter's own findings
    # ("记者追踪") in a Hot Tracking story, or a sidebar.
    box = blocks.StructBlock(
        [
            ("heading", blocks.CharBlock(label=_("Heading"))),
            (
                "text",
                blocks.RichTextBlock(
                    label=_("Text"), features=["bold", "italic", "link", "ol", "ul"]
                ),
            ),
        ],
        label=_("Box"),
        icon="doc-full",
        template="newsroom/blocks/box.html",
    )


class CachedPageMixin:
    """Public pages: what they show is redacted text (newsroom.public), and their
    responses may be kept by the page cache (newsroom.cache)."""

    def cache_tags(self) -> set[str]:
        """What this page shows depends on (besides the whole site)."""
        return {cache.page_tag(self.pk)}

    def get_view_restrictions(self):
        """The restrictions of this page and its ancestors, in one query by path
        and read once per request (Wagtail checks before serving, we after). The
        newsroom makes no aliases, which Wagtail's own version also resolves."""
        restrictions = getattr(self, "_view_restrictions", None)
        if restrictions is None:
            if self.alias_of_id:
                return super().get_view_restrictions()
            paths = [
                self.path[:end]
                for end in range(self.steplen, len(self.path) + 1, self.steplen)
            ]
            restrictions = PageViewRestriction.objects.filter(page__path__in=paths)
            list(restrictions)
            self._view_restrictions = restrictions
        return restrictions

    def serve(self, request, *args, **kwargs):
        # Read before the page reads its data: a change during rendering is seen.
        tag_versions = cache.versions(
            {cache.SITE, *self.cache_tags(), *sites.navigation_tags(request)}
        )
        response = super().serve(request, *args, **kwargs)
        if not getattr(request, "is_preview", False) and not (
            self.get_view_restrictions().exists()
        ):
            cache.mark_cacheable(response, (), tag_versions)
            cache.set_canonical(
                response,
                getattr(request, "newsroom_canonical_query", None)
                or print_query(request),
            )
        return response

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["print_view"] = request.GET.get("print") == "1"
        self.public_rules = public.rules_key(self.redaction_rules())
        context["public"] = public.page(
            self, self.public_rules, parent=self.public_parent()
        )
        # The masthead: the columns and the statistics page (newsroom.sites).
        site_nav = sites.navigation(request)
        context["site_nav"] = site_nav
        context["current_column"] = site_nav.column_of(self) if site_nav else None
        return context

    def get_sitemap_urls(self, request=None):
        """The sitemap names pages by the public address (newsroom.sites)."""
        return [
            {**entry, "location": sites.public_url(self, request)}
            for entry in super().get_sitemap_urls(request)
        ]

    def public_parent(self):
        """The page whose title this one shows above its own, if any."""
        return None

    def redaction_rules(self) -> list:
        """Rules for the page's own text: automatic masks always apply; here, the
        global censor rules (pages about a case add its own)."""
        return censor_rules()

    @staticmethod
    def cards_of(items, *, chars=None) -> list:
        """Listed stories and articles as cards, each redacted with its own case's
        rules (in one query for all)."""
        case_ids = [getattr(item, "case_id", None) for item in items]
        by_case = rules_for_cases(
            item.case for item, pk in zip(items, case_ids, strict=True) if pk
        )
        kwargs = {"chars": chars} if chars else {}
        return [
            public.card(item, by_case[pk], **kwargs)
            for item, pk in zip(items, case_ids, strict=True)
        ]


def lead_image(page, rules) -> public.PublicBlock | None:
    """The first image of a story's body with its alt text redacted, or None (one
    query for the images of that body when it has any)."""
    for block in getattr(page, "body", None) or []:
        if block.block_type == "image" and block.value is not None:
            image = block.value
            alt = getattr(image, "contextual_alt_text", None)
            if alt is None:
                alt = image.default_alt_text
            return public.PublicBlock("image", image, alt=public.text(alt, rules))
    return None


def print_query(request) -> list[tuple[str, str]]:
    return [("print", "1")] if request.GET.get("print") == "1" else []


class PrintEditionMixin(models.Model):
    print_date = models.DateField(_("print edition date"), null=True, blank=True)
    print_page = models.CharField(
        _("print page (版面)"),
        max_length=20,
        blank=True,
        help_text=_("For example A03."),
    )

    class Meta:
        abstract = True


class HomePage(CachedPageMixin, Page):
    intro = RichTextField(_("introduction"), blank=True)

    content_panels = [*Page.content_panels, "intro"]
    subpage_types = ["newsroom.ColumnPage", "newsroom.StatsPage"]
    parent_page_types = ["wagtailcore.Page"]
    max_count = 1

    class Meta:
        verbose_name = _("home page")

    def route(self, request, path_components):
        """Find the page of a URL in one query by its ``url_path`` (with the
        story's case, department and citizen), not one query per level of the
        tree; what is left of the path goes to that page's own routes (feeds)."""
        if not path_components:
            return super().route(request, path_components)
        prefixes = {
            self.url_path + "/".join(path_components[:n]) + "/": n
            for n in range(1, len(path_components) + 1)
        }
        found = (
            Page.objects.filter(url_path__in=list(prefixes), path__startswith=self.path)
            .order_by("-depth")
            .values_list("pk", "url_path", "content_type_id")
            .first()
        )
        if found is None:
            return super().route(request, path_components)
        pk, url_path, content_type_id = found
        model = ContentType.objects.get_for_id(content_type_id).model_class()
        pages = model.objects.all()
        if model is HotTrackingPage:
            pages = pages.select_related("case__department", "case__citizen")
        page = pages.get(pk=pk)
        return page.route(request, path_components[prefixes[url_path] :])

    def cache_tags(self):
        return {*super().cache_tags(), cache.LISTINGS, cache.STATISTICS}

    def get_context(self, request, *args, **kwargs):
        # newsroom.selectors imports this module: a top-level import is circular.
        from .selectors import shown_rate

        context = super().get_context(request, *args, **kwargs)
        # Since launch, from the rollups: two queries whatever the history.
        headline = Report().headline()
        context["headline"] = headline
        context["satisfaction"] = shown_rate(headline.satisfaction)
        stories = list(
            HotTrackingPage.objects.live()
            .public()
            .select_related("case", "case__department", "case__citizen")
            .order_by("-first_published_at")[:6]
        )
        cards = self.cards_of(stories)
        # The newest story leads, with the first image of its body (if any).
        context["lead_image"] = (
            lead_image(cards[0].page, self.cards_rules(cards[0])) if cards else None
        )
        context["cards"] = cards
        # The columns and the statistics page: the masthead's (one read, shared).
        site_nav = context["site_nav"]
        context["columns"] = site_nav.columns if site_nav else ()
        context["stats_page"] = site_nav.stats if site_nav else None
        return context

    def cards_rules(self, card):
        """The rules a card's own texts were redacted with: its case's."""
        return public.rules_key(rules_for(getattr(card.page, "case", None)))


class ColumnPage(CachedPageMixin, RoutablePageMixin, Page):
    """A column (专栏): Hot Tracking first, others such as a growers' column."""

    intro = RichTextField(_("introduction"), blank=True)
    is_hot_tracking = models.BooleanField(
        _("Hot Tracking column"),
        default=False,
        help_text=_("Escalated cases get their story drafts in this column."),
    )
    lists_community_visits = models.BooleanField(
        _("lists community visit days"),
        default=False,
        help_text=_(
            "Show the upcoming and past community visit days (社区月月进) "
            "above the column's articles."
        ),
    )

    content_panels = [*Page.content_panels, "intro"]
    settings_panels = [
        *Page.settings_panels,
        "is_hot_tracking",
        "lists_community_visits",
    ]
    subpage_types = ["newsroom.YearIndexPage"]
    parent_page_types = ["newsroom.HomePage"]

    class Meta:
        verbose_name = _("column")
        verbose_name_plural = _("columns")

    @re_path(r"^feed/(?P<kind>rss|atom)/$", name="feed")
    def feed(self, request, kind):
        """RSS or Atom feed of the column's latest stories (newsroom.feeds)."""
        # newsroom.feeds imports this module: a top-level import is circular.
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

    def filtered_stories(self, filters: dict):
        """:meth:`stories` narrowed by valid filters (see :class:`StoryFilters`)."""
        pages = self.stories()
        if status := filters.get("status"):
            pages = pages.filter(hottrackingpage__case__state__in=STATUS_STATES[status])
        if department := filters.get("department"):
            pages = pages.filter(hottrackingpage__case__department_id=department.pk)
        if year := filters.get("year"):
            pages = pages.filter(first_published_at__year=year)
        return pages

    def cache_tags(self):
        # A column listing the community visit days is invalidated through its
        # own page tag when a visit changes (newsroom.receivers).
        return {*super().cache_tags(), cache.LISTINGS}

    def departments(self):
        """Departments with a live story: the department filter's choices."""
        return Department.objects.filter(cases__story__live=True).distinct()

    def story_filters(self, params) -> StoryFilters:
        """The listing's filters: status and department only in the hotline's
        column (Hot Tracking); other columns filter by year."""
        if self.is_hot_tracking:
            return StoryFilters(params, departments=self.departments())
        return StoryFilters(params, departments=(), hotline=False)

    @path("")
    def index_route(self, request, *args, **kwargs):
        """The listing; a query with invalid or non-canonical filters is sent to
        the canonical one, so that made-up values never make cache entries."""
        filters = self.story_filters(request.GET)
        paginator = Paginator(self.filtered_stories(filters.valid()), STORIES_PER_PAGE)
        page_obj = paginator.get_page(filters.valid().get("page"))
        canonical = filters.canonical(page=page_obj.number)
        if canonical != filters.given():
            return redirect(f"{request.path}{filters.url_query(canonical)}")
        request.newsroom_canonical_query = canonical
        request.newsroom_listing = (filters, page_obj)
        return super().index_route(request, *args, **kwargs)

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        filters, page_obj = getattr(request, "newsroom_listing", (None, None))
        if filters is None:  # previews
            filters = self.story_filters({})
            page_obj = Paginator(self.filtered_stories({}), STORIES_PER_PAGE).page(1)
        context["page_obj"] = page_obj
        context["filters"] = filters
        context["cards"] = self.cards_of(load_specific_items(page_obj.object_list))
        # Status and department are the hotline's: other columns list articles.
        context["statuses"] = StoryStatus.choices if self.is_hot_tracking else ()
        context["departments"] = filters.departments
        if self.lists_community_visits:
            # newsroom.selectors imports this module: a top-level import is circular.
            from .selectors import community_visits

            context["visits"] = community_visits(self.public_rules)
        if page_obj.has_previous():
            context["previous_query"] = filters.url_query(
                filters.canonical(page=page_obj.previous_page_number())
            )
        if page_obj.has_next():
            context["next_query"] = filters.url_query(
                filters.canonical(page=page_obj.next_page_number())
            )
        return context


class StatsPage(CachedPageMixin, Page):
    """The hotline's public figures (公开统计), read live from the statistics
    rollups for the period the ``period`` parameter asks for."""

    intro = RichTextField(_("introduction"), blank=True)

    content_panels = [*Page.content_panels, "intro"]
    subpage_types = []
    parent_page_types = ["newsroom.HomePage"]
    max_count = 1

    class Meta:
        verbose_name = _("statistics page")

    def cache_tags(self):
        # Figures change with the rollups; days overdue as working days end.
        return {*super().cache_tags(), cache.STATISTICS, cache.OVERDUE}

    def serve(self, request, *args, **kwargs):
        if "start" in request.GET or "end" in request.GET:
            value, error = span_of_form(request.GET)
            if not error:
                query = [("period", value), *print_query(request)]
                return redirect(f"{request.path}?{urlencode(query)}")
            asked = AskedPeriod(None, error)
        else:
            asked = period_of_query(request.GET)
        request.newsroom_stats_period = asked
        request.newsroom_canonical_query = [*asked.canonical, *print_query(request)]
        response = super().serve(request, *args, **kwargs)
        if asked.error:
            response.status_code = 400
        return response

    def get_context(self, request, *args, **kwargs):
        # newsroom.selectors imports this module: a top-level import is circular.
        from .selectors import statistics_figures

        context = super().get_context(request, *args, **kwargs)
        asked = getattr(request, "newsroom_stats_period", None)
        if asked is None:  # previews
            asked = period_of_query(request.GET)
        context["period_error"] = asked.error
        report = Report(asked.period) if asked.period is not None else None
        context["figures"] = statistics_figures(report) if report else None
        context["first_time_callers"] = (
            report.first_time_callers(rules=self.public_rules) if report else None
        )
        context["asked_start"] = request.GET.get("start", "")[:10]
        context["asked_end"] = request.GET.get("end", "")[:10]
        return context


class AskedPeriod(NamedTuple):
    """The period a request asks for, or the message saying why it means none."""

    period: periods.Period | None
    error: str = ""
    # The query that asks for it canonically (the page cache keeps only those).
    canonical: tuple = ()


def period_of_query(params) -> AskedPeriod:
    """The period of a ``period`` parameter (none: since launch)."""
    values = params.getlist("period") if hasattr(params, "getlist") else []
    if len(values) > 1:
        return AskedPeriod(None, str(_("Give one period.")))
    try:
        period = periods.parse(values[0] if values else None)
    except periods.PeriodError as error:
        return AskedPeriod(None, str(error))
    return AskedPeriod(period, "", (("period", period.value),) if values else ())


def span_of_form(params) -> tuple[str, str]:
    """The ``period`` value of the from–to form (``start``, ``end``), and an error
    message when the dates do not make a period."""
    start = (params.get("start") or "").strip()
    end = (params.get("end") or "").strip()
    if not start or not end:
        return "", str(_("Give both dates of the period."))
    value = f"{start}..{end}"
    try:
        periods.parse(value)
    except periods.PeriodError as error:
        return "", str(error)
    return value, ""


class StoryFilters:
    """The column's filters parsed from a query: status, department, year, page.

    A value outside its domain (a made-up status, a department without stories, a
    year before the hotline or after next year, a page number that is not one) is
    dropped; ``canonical()`` is the query the listing really answers.
    """

    FIRST_YEAR = 2000
    MAX_PAGE = 100_000

    def __init__(self, params, *, departments, hotline: bool = True):
        self.params = params
        self.departments = list(departments)
        # Only the hotline's column has stories with a status and a department.
        self.hotline = hotline
        self._valid = None

    def given(self) -> list[tuple[str, str]]:
        """The filter parameters of the request as sent (empty ones ignored)."""
        return (
            sorted(
                (name, value)
                for name in ("status", "department", "year", "page")
                for value in self.params.getlist(name)
                if value != ""
            )
            if hasattr(self.params, "getlist")
            else []
        )

    def valid(self) -> dict:
        if self._valid is None:
            self._valid = self._parse()
        return self._valid

    def _single(self, name) -> str | None:
        values = [v for v in self.params.getlist(name) if v != ""]
        return values[0] if len(values) == 1 else None

    def _parse(self) -> dict:
        valid = {}
        if not hasattr(self.params, "getlist"):
            return valid
        status = self._single("status")
        if self.hotline and status in STATUS_STATES:
            valid["status"] = status
        department = ascii_int(self._single("department"))
        by_pk = {d.pk: d for d in self.departments}
        if self.hotline and department in by_pk:
            valid["department"] = by_pk[department]
        year = ascii_int(self._single("year"))
        if year is not None and self.FIRST_YEAR <= year <= timezone.now().year + 1:
            valid["year"] = year
        page = ascii_int(self._single("page"))
        if page is not None and 1 <= page <= self.MAX_PAGE:
            valid["page"] = page
        return valid

    @property
    def selected_department(self) -> int | None:
        department = self.valid().get("department")
        return department.pk if department is not None else None

    def canonical(self, *, page: int = 1) -> list[tuple[str, str]]:
        valid = self.valid()
        query = []
        if "status" in valid:
            query.append(("status", valid["status"]))
        if "department" in valid:
            query.append(("department", str(valid["department"].pk)))
        if "year" in valid:
            query.append(("year", str(valid["year"])))
        if page > 1:
            query.append(("page", str(page)))
        return sorted(query)

    @staticmethod
    def url_query(query) -> str:
        return f"?{urlencode(query)}" if query else ""


def ascii_int(value: str | None) -> int | None:
    """``value`` as a plain decimal number, or None: ``str.isdigit()`` and ``int()``
    accept ①, ² and 𝟙, which no filter means."""
    if value is None or not (value.isascii() and value.isdigit()) or len(value) > 9:
        return None
    return int(value)


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

    def cache_tags(self):
        return {*super().cache_tags(), cache.LISTINGS}

    def public_parent(self):
        return self.get_parent()


class ArticlePage(CachedPageMixin, PrintEditionMixin, Page):
    """An ordinary column article."""

    standfirst = models.TextField(_("standfirst"), blank=True)
    body = StreamField(BodyBlock(), verbose_name=_("body"), blank=True)

    content_panels = [
        *Page.content_panels,
        "standfirst",
        "body",
        "print_date",
        "print_page",
    ]
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

    def cache_tags(self):
        tags = {*super().cache_tags(), cache.case_tag(self.case_id)}
        if self.case.is_awaiting_department:
            # "Not answered, overdue by N working days" grows as working days end.
            tags.add(cache.OVERDUE)
        return tags

    def get_context(self, request, *args, **kwargs):
        # newsroom.selectors imports this module: a top-level import is circular.
        from .selectors import story_facts

        context = super().get_context(request, *args, **kwargs)
        rules = self.redaction_rules()
        context["facts"] = story_facts(self, rules=rules)
        rules = public.rules_key(rules)
        context["follow_ups"] = [
            (item, public.text(item.title, rules))
            for item in FollowUpPage.objects.live()
            .child_of(self)
            # This page's own restrictions are checked: only the child's count.
            .exclude(Exists(PageViewRestriction.objects.filter(page=OuterRef("pk"))))
        ]
        return context

    def redaction_rules(self):
        # One read of the case's rules serves the page, its timeline and cards.
        rules = getattr(self, "_rules", None)
        if rules is None:
            rules = self._rules = rules_for(self.case)
        return rules

    @property
    def status_label(self):
        return StoryStatus(self.status).label


class FollowUpPage(CachedPageMixin, PrintEditionMixin, Page):
    """A follow-up report (追踪报道) under a Hot Tracking story."""

    standfirst = models.TextField(_("standfirst"), blank=True)
    body = StreamField(BodyBlock(), verbose_name=_("body"), blank=True)

    content_panels = [
        *Page.content_panels,
        "standfirst",
        "body",
        "print_date",
        "print_page",
    ]
    subpage_types = []
    parent_page_types = ["newsroom.HotTrackingPage"]

    def story(self):
        story = getattr(self, "_story", None)
        if story is None:
            story = self._story = (
                HotTrackingPage.objects.filter(pk=self.get_parent().pk)
                .select_related("case__citizen")
                .first()
            )
        return story

    def cache_tags(self):
        tags = super().cache_tags()
        story = self.story()
        if story is not None:
            tags |= {cache.case_tag(story.case_id), cache.page_tag(story.pk)}
        return tags

    def public_parent(self):
        return self.story()

    def redaction_rules(self):
        story = self.story()
        return rules_for(story.case if story else None)

    class Meta:
        verbose_name = _("follow-up report")
        verbose_name_plural = _("follow-up reports")


class EditorNotice(models.Model):
    """A note to an editor in the admin: a story's case moved, follow up."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
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
