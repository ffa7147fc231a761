"""Chinese full-text search over live pages, on our own inverted index.

The database search backends do not segment Chinese, so a page is cut into words
with jieba when it is published and stored as :class:`~newsroom.models.SearchTerm`
rows; a query is cut the same way and matched against those rows.

Everything that goes into the index passes :func:`tracking.redaction.redact` first
(with the case of the story the page belongs to), so no citizen's name, phone,
address or ID number can be found, or found *by*.
"""

from __future__ import annotations

import html
import logging
import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, F, Sum
from django.utils.html import strip_tags
from django.utils.text import Truncator
from wagtail.models import Page

from tracking import outbox
from tracking.models import Case, Citizen
from tracking.redaction import Rule, redact, rules_for_cases

from .models import HotTrackingPage, SearchTerm, YearIndexPage

logger = logging.getLogger(__name__)

MAX_TERM_LENGTH = 64  # SearchTerm.term
MAX_WEIGHT = 32767  # PositiveSmallIntegerField
MAX_QUERY_LENGTH = 200
MAX_QUERY_TERMS = 20
RESULTS_PER_PAGE = 10

# How much one occurrence of a word counts, by where it occurs.
TITLE_WEIGHT = 10
SUMMARY_WEIGHT = 3
BODY_WEIGHT = 1

# Pages that only group other pages: their titles ("2026") are noise in results.
NOT_INDEXED = (YearIndexPage,)

# Function words that match nearly every page. Kept short on purpose: a word
# missing here costs a little ranking; a word wrongly here can never be found.
STOPWORDS = frozenset(
    """
    的 地 得 了 着 过 和 与 及 或 而 并 且 是 在 于 为 对 从 向 把 被 让 给 将 就 都
    也 又 还 但 之 其 这 那 个 些 吗 呢 吧 啊 呀 嘛 哦 么 很 已 已经 以及 并且 或者 而且
    因为 所以 如果 但是 我们 你们 他们 她们 它们 这个 那个 这些 那些 一个
    a an and are as at be by for from in is it of on or that the this to with
    """.split()
)

_tokenizer = None
_tokenizer_lock = threading.Lock()


def tokenizer():
    """jieba's tokenizer, loaded on first use and quietly (it logs to stderr)."""
    global _tokenizer
    if _tokenizer is None:
        with _tokenizer_lock:
            if _tokenizer is None:
                # Deliberately late: importing jieba costs about half a second and
                # 20 MB, and every process imports this module (NewsroomConfig).
                import jieba

                jieba.setLogLevel(logging.WARNING)
                instance = jieba.Tokenizer()
                instance.initialize()
                _tokenizer = instance
    return _tokenizer


# --- Text to terms ----------------------------------------------------------------

_BLOCK_TAGS = re.compile(
    r"</?(?:p|div|h[1-6]|li|ul|ol|br|blockquote|figure|figcaption|table|tr|td|th)\b"
    r"[^>]*>",
    re.IGNORECASE,
)


def plain_text(value: str) -> str:
    """Rich text as plain text: block tags become line breaks, entities decoded."""
    if not value:
        return ""
    return html.unescape(strip_tags(_BLOCK_TAGS.sub("\n", value)))


def public_text(text: str, rules: list[Rule]) -> str:
    """``text`` fit for the public (redaction reads full-width digits as ASCII)."""
    return redact(text, rules=rules) if text else ""


def indexable_text(text: str, rules: list[Rule]) -> str:
    """:func:`public_text` in the normal form the index and queries share."""
    text = public_text(text, rules)
    return redact(unicodedata.normalize("NFKC", text), rules=rules)


def _keep(token: str) -> str | None:
    token = token.strip().lower()
    if (
        not token
        or len(token) > MAX_TERM_LENGTH
        or token in STOPWORDS
        # Punctuation, whitespace and masks ("***") carry no meaning.
        or not any(ch.isalnum() for ch in token)
    ):
        return None
    return token


def index_terms(text: str) -> Iterator[str]:
    """Every word of already-redacted ``text``, with the shorter words inside long
    ones (人行横道 → 人行, 人行横道), so that a query for either finds it."""
    for token in tokenizer().cut_for_search(text):
        if kept := _keep(token):
            yield kept


def query_terms(query: str) -> list[str]:
    """The distinct words of a query, cut the same way the pages were."""
    query = unicodedata.normalize("NFKC", query or "")[:MAX_QUERY_LENGTH]
    terms = []
    for token in tokenizer().lcut(query):
        kept = _keep(token)
        if kept and kept not in terms:
            terms.append(kept)
    return terms[:MAX_QUERY_TERMS]


# --- Whose personal data a page may contain ----------------------------------------


def story_cases(pages: Iterable[Page]) -> dict[int, Case | None]:
    """The case of the story each page is, or belongs to (a follow-up), or None.

    One query for any number of pages, one more for the citizens (read apart from
    the case, see :class:`tracking.models.Citizen`).
    """
    pages = list(pages)
    prefixes = {
        page.path[:end]
        for page in pages
        for end in range(Page.steplen, len(page.path) + 1, Page.steplen)
    }
    stories = []
    if prefixes:
        stories = list(
            HotTrackingPage.objects.filter(path__in=prefixes)
            .select_related("case")
            .only("path", "case")
        )
    cases = [story.case for story in stories]
    _prefetch_citizens(cases)
    by_path = {story.path: story.case for story in stories}
    result = {}
    for page in pages:
        case = None
        for end in range(len(page.path), 0, -Page.steplen):
            case = by_path.get(page.path[:end])
            if case is not None:
                break
        result[page.pk] = case
    return result


def _prefetch_citizens(cases: list[Case]) -> None:
    ids = {case.citizen_id for case in cases if case.citizen_id}
    citizens = Citizen.objects.in_bulk(ids) if ids else {}
    for case in cases:
        case.citizen = citizens.get(case.citizen_id)


# --- Indexing ------------------------------------------------------------------------


def page_texts(page: Page) -> list[tuple[str, int]]:
    """The texts of a page worth finding it by, each with its weight."""
    texts = [(page.title, TITLE_WEIGHT), (page.seo_title, TITLE_WEIGHT)]
    texts.append((page.search_description, SUMMARY_WEIGHT))
    for field in ("standfirst", "intro"):
        texts.append((plain_text(getattr(page, field, "") or ""), SUMMARY_WEIGHT))
    body = getattr(page, "body", None)
    if body is not None:
        texts.extend((text, BODY_WEIGHT) for text in _stream_texts(body.raw_data))
    return [(text, weight) for text, weight in texts if text]


def _stream_texts(value) -> Iterator[str]:
    """All text in a StreamField's raw data: paragraphs, quotes, image alt text."""
    if isinstance(value, str):
        yield plain_text(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            if key not in ("type", "id"):
                yield from _stream_texts(item)
    elif hasattr(value, "__iter__"):  # lists, and the stream's raw data view
        for item in value:
            yield from _stream_texts(item)


def term_weights(page: Page, rules: list[Rule]) -> Counter:
    weights = Counter()
    for text, weight in page_texts(page):
        for term in index_terms(indexable_text(text, rules)):
            weights[term] += weight
    return weights


def is_indexed(page: Page) -> bool:
    return page.live and page.depth > 1 and not isinstance(page, NOT_INDEXED)


def index_page(page: Page) -> int:
    """(Re)index one page as it is now; a page not live is removed from the index.

    Returns the number of terms stored.
    """
    page = page.specific
    if not is_indexed(page):
        remove_page(page.pk)
        return 0
    case = story_cases([page])[page.pk]
    rules = rules_for_cases([case])[case.pk if case else None]
    weights = term_weights(page, rules)
    with transaction.atomic():
        # One reindexing of a page at a time: two would collide on (page, term).
        list(Page.objects.select_for_update().filter(pk=page.pk).values_list("pk"))
        SearchTerm.objects.filter(page_id=page.pk).delete()
        SearchTerm.objects.bulk_create(
            [
                SearchTerm(page_id=page.pk, term=term, weight=min(weight, MAX_WEIGHT))
                for term, weight in weights.items()
            ],
            batch_size=500,
        )
    return len(weights)


def remove_page(page_id: int) -> None:
    SearchTerm.objects.filter(page_id=page_id).delete()


def index_pages(pages) -> int:
    """Reindex ``pages`` (a Page queryset), a batch at a time. Returns how many."""
    ids = list(pages.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), 100):
        for page in Page.objects.filter(pk__in=ids[start : start + 100]).specific():
            index_page(page)
    return len(ids)


def index_all() -> int:
    """Rebuild the whole index from the live pages. Returns how many were indexed."""
    SearchTerm.objects.exclude(page__live=True).delete()
    return index_pages(Page.objects.live().filter(depth__gt=1))


# --- Keeping the index in step (connected in NewsroomConfig.ready) -------------------


def on_page_published(sender, instance, **kwargs):
    try:
        index_page(instance)
    except Exception:
        # Publishing must not fail on the index; an old entry must not outlive it.
        logger.exception("search: could not index page %s", instance.pk)
        remove_page(instance.pk)


def on_page_unpublished(sender, instance, **kwargs):
    remove_page(instance.pk)


def on_page_deleted(sender, instance, **kwargs):
    remove_page(instance.pk)


def reindex_case_pages(case_id: int) -> int:
    """Reindex a case's story and its follow-ups: the case's redaction changed."""
    story = HotTrackingPage.objects.filter(case_id=case_id).only("path").first()
    if story is None:
        return 0
    return index_pages(Page.objects.live().descendant_of(story, inclusive=True))


def on_censor_rule_changed(sender, instance, **kwargs):
    """A new, changed or removed censor rule changes what may be in the index.

    A case's rule touches that case's pages; a global rule may touch any page.
    """
    # Never in the request: a global rule means reindexing every page. The
    # outbox queues it to a worker after the commit and retries it if need be.
    case_ids = instance.affected_case_ids()
    for case_id in [None] if None in case_ids else sorted(case_ids):
        outbox.send("newsroom.tasks.reindex_for_censor_rule", case_id)


def on_citizen_changed(sender, instance, created=False, **kwargs):
    if created:
        return  # no case, let alone a story, has this citizen yet
    case_ids = list(
        Case.objects.filter(citizen_id=instance.pk, story__isnull=False).values_list(
            "pk", flat=True
        )
    )

    def reindex():
        for case_id in case_ids:
            reindex_case_pages(case_id)

    if case_ids:
        transaction.on_commit(reindex)


# --- Querying ----------------------------------------------------------------------


@dataclass
class Hit:
    page: Page
    title: str
    snippet: str
    story: HotTrackingPage | None


@dataclass
class Matches:
    """Page ids matching a query, best first, and whether they hold every word."""

    terms: list[str]
    rows: object  # a queryset of {"page", "matched", "score"}
    complete: bool


def search(query: str) -> Matches:
    """Live, public pages holding every word of ``query``, ranked by weight.

    When no page holds them all, pages holding any of them, those with more of
    the words first.
    """
    terms = query_terms(query)
    if not terms:
        nothing = SearchTerm.objects.none().values("page").order_by("page")
        return Matches(terms, nothing, True)
    rows = (
        SearchTerm.objects.filter(
            term__in=terms, page__in=Page.objects.live().public().values("pk")
        )
        .values("page")
        .annotate(matched=Count("term"), score=Sum("weight"))
    )
    # Newest first on a tie; pages made by migrations have no publication date.
    newest = (F("page__first_published_at").desc(nulls_last=True), "-page")
    complete = rows.filter(matched=len(terms)).order_by("-score", *newest)
    if len(terms) == 1 or complete.exists():
        return Matches(terms, complete, True)
    # A number alone (a date, a house number, a count) says nothing of what a page
    # is about: pages sharing only numbers with the query are not offered.
    words = [term for term in terms if not term.isdigit()]
    if not words:
        return Matches(terms, complete, True)
    rows = rows.filter(term__in=words)
    return Matches(terms, rows.order_by("-matched", "-score", *newest), False)


def hits(rows) -> list[Hit]:
    """Result rows as pages with redacted title and snippet, in a fixed number of
    queries whatever their number and types."""
    ids = [row["page"] for row in rows]
    pages = {page.pk: page for page in Page.objects.filter(pk__in=ids).specific()}
    ordered = [pages[pk] for pk in ids if pk in pages]
    cases = story_cases(ordered)
    rules = rules_for_cases(cases.values())
    result = []
    for page in ordered:
        case = cases[page.pk]
        page_rules = rules[case.pk if case else None]
        story = page if isinstance(page, HotTrackingPage) else None
        if story is not None:
            story.case = case  # loaded once, for the status badge
        summary = getattr(page, "standfirst", "") or page.search_description
        result.append(
            Hit(
                page=page,
                title=public_text(page.title, page_rules),
                snippet=Truncator(public_text(summary, page_rules)).chars(160),
                story=story,
            )
        )
    return result
