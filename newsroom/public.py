"""What the public reads of a page: its text redacted as plain text, then cut.

Templates of the public site show these objects, never a page's raw fields:
titles, standfirsts, descriptions, quotes and image alt texts are redacted where
they are read, before they are cut or summarised, and the template escapes them.
Rich text is redacted on its text nodes, never on its markup, and comes out with
only the tags and attributes the editor's toolbar can make.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from bs4 import BeautifulSoup, Comment, NavigableString
from django.utils.text import Truncator
from wagtail.rich_text import RichText

from tracking.redaction import Rule, redact

CARD_STANDFIRST_CHARS = 120
DESCRIPTION_CHARS = 160

# Elements whose text is read as one piece: personal data split by inline markup
# (139<b>1234</b>5678) is found in the piece, and the piece loses its formatting.
BLOCK_TAGS = frozenset(
    "p h1 h2 h3 h4 h5 h6 li blockquote div pre figcaption td th".split()
)
# What Wagtail's rich-text format holds (the editor's features); anything else is
# dropped, with its content for the tags that hold code or styles.
ALLOWED_TAGS = frozenset(
    "p h2 h3 h4 h5 h6 b i strong em u s sub sup code a ul ol li br hr blockquote "
    "embed".split()
)
DROPPED_WITH_CONTENT = frozenset("script style template iframe object noscript".split())
ALLOWED_ATTRIBUTES = {
    "a": {"href", "linktype", "id"},
    "embed": {"embedtype", "id", "format", "alt", "url"},
}
SAFE_SCHEMES = ("http://", "https://", "mailto:", "tel:", "/", "#")
# Attributes that hold text a reader sees.
TEXT_ATTRIBUTES = ("alt",)


def rules_key(rules: Iterable[Rule]) -> tuple[Rule, ...]:
    return tuple(rules)


def text(value: str | None, rules: tuple[Rule, ...]) -> str:
    """Plain text fit for the public."""
    return redact(value, rules=rules) if value else ""


def cut(value: str | None, rules: tuple[Rule, ...], chars: int) -> str:
    """Redacted first, then cut: a cut never leaves half a phone number."""
    return Truncator(text(value, rules)).chars(chars)


def rich_text(source: str | None, rules: tuple[Rule, ...]) -> RichText:
    """Rich text (Wagtail's stored format) with its text redacted."""
    return RichText(_redacted_rich_text(source or "", rules))


@lru_cache(maxsize=2048)
def _redacted_rich_text(source: str, rules: tuple[Rule, ...]) -> str:
    if not source:
        return ""
    soup = BeautifulSoup(source, "html.parser")
    _sanitise(soup, rules)
    leaves = [
        element
        for element in soup.find_all(BLOCK_TAGS)
        if element.find(BLOCK_TAGS) is None
    ]
    for element in leaves:
        _redact_piece(element, rules)
    # Text outside any block element, each string on its own.
    for string in list(soup.find_all(string=True)):
        if string.find_parent(BLOCK_TAGS) is None:
            string.replace_with(NavigableString(redact(str(string), rules=rules)))
    return str(soup)


def _redact_piece(element, rules) -> None:
    strings = list(element.find_all(string=True))
    whole = "".join(strings)
    redacted = redact(whole, rules=rules)
    parts = [redact(str(s), rules=rules) for s in strings]
    if "".join(parts) == redacted:
        for string, part in zip(strings, parts, strict=True):
            if part != string:
                string.replace_with(NavigableString(part))
    else:
        element.clear()
        element.append(NavigableString(redacted))


def _sanitise(soup, rules) -> None:
    for comment in soup.find_all(string=lambda s: isinstance(s, Comment)):
        comment.extract()
    for tag in soup.find_all(True):
        if tag.name in DROPPED_WITH_CONTENT:
            tag.decompose()
    for tag in soup.find_all(True):
        if tag.name not in ALLOWED_TAGS:
            tag.unwrap()
            continue
        allowed = ALLOWED_ATTRIBUTES.get(tag.name, set())
        for name in list(tag.attrs):
            if name not in allowed:
                del tag.attrs[name]
        for name in TEXT_ATTRIBUTES:
            if name in tag.attrs:
                tag.attrs[name] = redact(str(tag.attrs[name]), rules=rules)
        href = tag.attrs.get("href")
        if href is not None:
            href = str(href).strip()
            # A link whose address holds personal data, or runs script, goes; its
            # text stays.
            if not href.lower().startswith(SAFE_SCHEMES) or redact(
                href, rules=rules
            ) != href:
                del tag.attrs["href"]
                if "linktype" not in tag.attrs:
                    tag.unwrap()


@dataclass
class PublicBlock:
    """One block of a story's body, ready for the template."""

    block_type: str
    value: object
    alt: str = ""


def body(stream, rules: tuple[Rule, ...]) -> list[PublicBlock]:
    """A StreamField body with every text redacted."""
    blocks = []
    for block in stream or []:
        kind = block.block_type
        if kind == "paragraph":
            blocks.append(PublicBlock(kind, rich_text(block.value.source, rules)))
        elif kind == "quote":
            blocks.append(
                PublicBlock(
                    kind,
                    {
                        "text": text(block.value.get("text"), rules),
                        "attribution": text(block.value.get("attribution"), rules),
                    },
                )
            )
        elif kind == "box":
            inner = block.value.get("text")
            blocks.append(
                PublicBlock(
                    kind,
                    {
                        "heading": text(block.value.get("heading"), rules),
                        "text": rich_text(inner.source if inner else "", rules),
                    },
                )
            )
        elif kind == "image" and block.value is not None:
            image = block.value
            alt = getattr(image, "contextual_alt_text", None)
            if alt is None:
                alt = image.default_alt_text
            blocks.append(PublicBlock(kind, image, alt=text(alt, rules)))
    return blocks


@dataclass
class PublicPage:
    """A page as the public reads it."""

    title: str
    seo_title: str = ""
    description: str = ""
    standfirst: str = ""
    intro: RichText | None = None
    body: list[PublicBlock] = field(default_factory=list)
    parent_title: str = ""


def page(page, rules: Iterable[Rule], *, parent=None) -> PublicPage:
    """Everything of ``page`` a public template shows, redacted with ``rules``."""
    rules = rules_key(rules)
    standfirst = text(getattr(page, "standfirst", ""), rules)
    description = text(page.search_description, rules) or standfirst
    intro = getattr(page, "intro", None)
    return PublicPage(
        title=text(page.title, rules),
        seo_title=text(page.seo_title, rules),
        description=Truncator(description).chars(DESCRIPTION_CHARS),
        standfirst=standfirst,
        intro=rich_text(intro, rules) if intro else None,
        body=body(getattr(page, "body", None), rules),
        parent_title=text(parent.title, rules) if parent is not None else "",
    )


@dataclass
class Card:
    """A story or article in a listing: title and the start of its standfirst."""

    page: object
    title: str
    standfirst: str


def card(item, rules: Iterable[Rule], *, chars: int = CARD_STANDFIRST_CHARS) -> Card:
    rules = rules_key(rules)
    return Card(
        page=item,
        title=text(item.title, rules),
        standfirst=cut(getattr(item, "standfirst", ""), rules, chars),
    )
