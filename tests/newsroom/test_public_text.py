"""newsroom.public: what a page's text reads like to the public.

Rich text is redacted on its text nodes, never on its markup; text cut for a card
or a description is redacted before it is cut.
"""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup

from newsroom import public
from tests.factories import CitizenFactory
from tracking.redaction import Rule, citizen_rules

CITIZEN_RULES = tuple(
    citizen_rules(
        CitizenFactory.build(
            name="周建国", phone="13812345678", address="幸福小区3号楼"
        )
    )
)


def expanded(source: str, rules=()) -> str:
    return public._redacted_rich_text(source, tuple(rules))


def test_text_nodes_are_redacted_and_markup_is_kept():
    html = expanded(
        "<p>周建国说：<b>电话13812345678</b>，<i>请回电</i>。</p>", CITIZEN_RULES
    )

    assert html == "<p>周某说：<b>电话***********</b>，<i>请回电</i>。</p>"


def test_personal_data_split_by_inline_markup_is_found_in_the_whole_block():
    html = expanded(
        "<p>电话139<b>1234</b>5678，<i>谢谢</i></p><p>另一段<b>加粗</b></p>"
    )

    assert "139" not in html and "5678" not in html
    assert html.startswith("<p>电话***********，谢谢</p>")
    assert "<p>另一段<b>加粗</b></p>" in html


def test_a_replacement_with_markup_becomes_escaped_text():
    rules = [Rule("金胜路", "<img src=x onerror=alert(1)>")]

    html = expanded('<p>金胜路<a href="https://example.org/">路口</a></p>', rules)

    assert "<img" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert '<a href="https://example.org/">路口</a>' in html


def test_rules_never_match_inside_markup():
    rules = [Rule("href", "X"), Rule("linktype", "X"), Rule("amp", "X")]

    html = expanded('<p><a linktype="page" id="3">A &amp; B</a></p>', rules)

    assert html == '<p><a id="3" linktype="page">A &amp; B</a></p>'


@pytest.mark.parametrize(
    "source, kept",
    [
        ("<p>文<script>alert(1)</script>字</p>", "<p>文字</p>"),
        ('<p onclick="alert(1)">文字</p>', "<p>文字</p>"),
        ('<p><a href="javascript:alert(1)">链接</a></p>', "<p>链接</p>"),
        ('<p><img src=x onerror="alert(1)">文字</p>', "<p>文字</p>"),
        ("<p>文<!-- 13912345678 -->字</p>", "<p>文字</p>"),
        ('<p><a href="tel:13912345678">电话</a></p>', "<p>电话</p>"),
        ('<p><a href="mailto:zjg@example.org">邮件</a></p>', "<p>邮件</p>"),
    ],
)
def test_only_what_the_editor_toolbar_makes_comes_out(source, kept):
    assert expanded(source) == kept


def test_an_embeds_alt_text_is_redacted():
    html = expanded(
        '<p>图</p><embed alt="周建国家门口" embedtype="image" format="left" id="1"/>',
        CITIZEN_RULES,
    )

    embed = BeautifulSoup(html, "html.parser").find("embed")
    assert embed["alt"] == "周某家门口"
    assert "/>" in html  # Wagtail's rewriter needs the self-closing form


def test_a_card_is_redacted_before_it_is_cut():
    text = "甲" * 115 + "电话13912345678请回电"

    cut = public.cut(text, (), 120)

    assert "13912" not in cut and "1391" not in cut
    assert len(cut) <= 120
