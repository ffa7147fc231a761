"""RSS 2.0 and Atom feeds of a column: its latest stories with their live status."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.utils import translation
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed
from django.utils.html import escape
from django.utils.translation import gettext as _

from tracking.redaction import rules_for_cases

from .models import HotTrackingPage, load_specific_items
from .search import plain_text, public_text, story_cases
from .sites import public_address, public_url

FEED_ITEMS = 50
FEED_CLASSES = {"rss": Rss201rev2Feed, "atom": Atom1Feed}


def column_feed(request, column, kind: str) -> HttpResponse:
    """The column's latest live public stories and articles as RSS or Atom.

    A story's item leads with its case's status as it is now ("[追踪中] ..."); all
    text is redacted. The summary is plain text, but RSS descriptions and Atom
    ``type="html"`` summaries are read as HTML: it is escaped for HTML here and
    for XML by the writer, so a reader shows ``<b>`` as text, never as markup
    (RSS titles too; Atom titles are declared text).
    Queries do not grow with the number of items.
    """
    feed_class = FEED_CLASSES.get(kind)
    if feed_class is None:
        raise Http404
    items = load_specific_items(column.stories()[:FEED_ITEMS])
    cases = story_cases(items)
    rules = rules_for_cases(cases.values())
    # Read in a feed reader, away from the site: absolute, on the public address.
    column_url = public_url(column, request)
    feed = feed_class(
        title=column.title,
        link=column_url,
        description=plain_text(column.search_description or column.intro).strip()
        or column.title,
        language=translation.get_language(),
        feed_url=public_address(request.path, request),
    )
    for item in items:
        case = cases[item.pk]
        item_rules = rules[case.pk if case else None]
        summary = public_text(item.standfirst, item_rules)
        categories = []
        if isinstance(item, HotTrackingPage):
            label = str(item.status_label)
            summary = _("[%(status)s] %(summary)s") % {
                "status": label,
                "summary": summary,
            }
            categories.append(label)
        url = public_url(item, request)
        title = public_text(item.title, item_rules)
        feed.add_item(
            # Atom titles are text; RSS leaves it open, and readers take HTML.
            title=escape(title) if kind == "rss" else title,
            link=url,
            unique_id=url,
            description=escape(summary.strip()),
            pubdate=item.first_published_at,
            updateddate=item.last_published_at,
            categories=categories,
        )
    response = HttpResponse(content_type=feed.content_type)
    feed.write(response, "utf-8")
    return response
