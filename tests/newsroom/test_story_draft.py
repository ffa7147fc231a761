"""A Hot Tracking draft an editor can start from: headline, lede, the public
timeline quoted and a box for the reporter, all redacted, all editable.

Exact wording is checked in an English install (``settings.LANGUAGE_CODE``), so
these tests hold before and after the Chinese catalogue has the new strings;
the Chinese install is checked by what Django formats in it (dates) and by
strings the catalogue has.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from newsroom.models import HotTrackingPage
from newsroom.panels import draft_text
from newsroom.services import draft_place, story_create_for_case, story_draft_content
from tests.factories import (
    CaseFactory,
    CategoryFactory,
    CitizenFactory,
    DepartmentFactory,
    EventFactory,
    aware,
    staff,
    supervisor,
)
from tracking import roles
from tracking import services as case_services
from tracking.escalation import scan_overdue
from tracking.models import State
from tracking.redaction import find_personal_data

pytestmark = pytest.mark.django_db

RECEIVED = aware(2026, 3, 2, 9)
DUE = aware(2026, 3, 9, 17, 30)
ESCALATED = aware(2026, 3, 18, 18)
NOW = aware(2026, 3, 19, 10)

PERSONAL = ["周建国", "13812345678", "13912345678", "3号楼", "401室", "18号"]


@pytest.fixture
def english(settings):
    """An English install: the role groups go by their English names there."""
    from django.contrib.auth.models import Group

    from tracking import roles

    stored = {roles.group_name(key): key for key in roles.ROLE_KEYS}
    settings.LANGUAGE_CODE = "en"
    for name, key in stored.items():
        Group.objects.filter(name=name).update(name=roles.group_name(key))


def citizen():
    return CitizenFactory(
        name="周建国", phone="13812345678", address="镜湖区幸福小区3号楼2单元401室"
    )


def escalated_case(**fields):
    """A case the paper took up 7 working days past its deadline."""
    defaults = {
        "citizen": citizen(),
        "title": "周建国反映：人行道地砖松动",
        "description": "人行道地砖松动，老人多次绊倒。联系电话13912345678。",
        "location_text": "镜湖区幸福路18号",
        "department": DepartmentFactory(name="市政管理处"),
        "state": State.SUPERVISED,
        "is_efficiency": True,
        "registered_at": RECEIVED,
        "dispatched_at": RECEIVED,
        "due_at": DUE,
        "escalated_at": ESCALATED,
        "escalated_due_at": DUE,
        "escalated_days_overdue": 7,
    }
    return CaseFactory(**{**defaults, **fields})


def body_html(content) -> str:
    return "".join(
        value
        if isinstance(value, str)
        else json.dumps(
            {k: getattr(v, "source", v) for k, v in value.items()},
            ensure_ascii=False,
        )
        for _kind, value in content["body"]
    )


# --- the headline --------------------------------------------------------------------


def test_the_headline_names_the_problem_the_place_and_the_working_days_overdue(
    english,
):
    content = story_draft_content(escalated_case(), now=NOW)

    assert content["title"] == (
        "幸福路人行道地砖松动 Residents report it unresolved 7 working days past "
        "the deadline"
    )


def test_one_working_day_is_singular(english):
    content = story_draft_content(escalated_case(escalated_days_overdue=1), now=NOW)

    assert content["title"].endswith("unresolved 1 working day past the deadline")


def test_in_a_chinese_install_the_headline_keeps_the_problem_place_and_figure():
    content = story_draft_content(escalated_case(), now=NOW)

    assert content["title"].startswith("幸福路人行道地砖松动 ")
    assert "7" in content["title"]


def test_a_title_that_names_the_place_is_not_prefixed_again(english):
    case = escalated_case(
        title="五湖路口直行车道拥堵", location_text="五湖路与花园大道十字路口"
    )

    title = story_draft_content(case, now=NOW)["title"]

    assert title.startswith("五湖路口直行车道拥堵 ")
    assert title.count("五湖路") == 1


def test_a_case_not_overdue_says_it_is_unresolved_without_a_figure(english):
    case = escalated_case(
        escalated_days_overdue=None,
        escalated_due_at=None,
        due_at=NOW + timedelta(days=3),
    )

    assert story_draft_content(case, now=NOW)["title"] == (
        "幸福路人行道地砖松动 Residents report it still unresolved"
    )


@pytest.mark.parametrize(
    ("location", "place"),
    [
        ("镜湖区幸福路18号", "幸福路"),
        ("幸福路18号周建国家门口，电话13812345678", "幸福路"),
        ("周建国家门口的幸福路", ""),
        ("镜湖区幸福小区3号楼2单元401室门口", ""),  # the citizen's own address
        ("13912345678", ""),
        ("镜湖区", "镜湖区"),
        ("五湖路与花园大道十字路口东北角", "五湖路与花园大道十字路口"),
    ],
)
def test_no_house_number_phone_or_name_in_the_location_reaches_the_headline(
    location, place
):
    case = escalated_case(title="人行道地砖松动", location_text=location)

    content = story_draft_content(case, now=NOW)

    assert content["title"].startswith(f"{place}人行道地砖松动 ")
    for text in (content["title"], content["standfirst"], body_html(content)):
        for value in PERSONAL:
            assert value not in text, (value, text)


def test_the_place_is_the_street_without_the_district_or_the_house_number():
    assert draft_place("安徽省芜湖市镜湖区幸福路18号附近") == ("幸福路", ["幸福路"])
    assert draft_place("***门口") == ("", [])
    assert draft_place("周某家旁边3号楼") == ("", [])


# --- the lede, the timeline, the box ------------------------------------------------


def test_the_lede_has_the_facts(english):
    case = escalated_case(bounce_count=1)
    for day in (10, 12):
        EventFactory(case=case, action="reminder", created_at=aware(2026, 3, day, 9))

    content = story_draft_content(case, now=NOW)

    kind, lede = content["body"][0]
    assert kind == "paragraph"
    assert lede == (
        "<p>On March 2, 2026, a resident told the 8890 hotline about 幸福路: "
        "人行道地砖松动，老人多次绊倒。联系电话***********。 "
        "The hotline set a deadline of March 9, 2026, 5:30 p.m. and passed it to "
        "市政管理处. "
        "By March 18, 2026 it was 7 working days past the deadline and still "
        "unresolved. "
        "The hotline reminded the department 2 times. "
        "The case was sent back to the hotline 1 time. "
        "On March 18, 2026 the hotline handed it to the paper for media "
        "supervision.</p>"
    )
    assert content["standfirst"] == (
        "Residents reported to the 8890 hotline: 幸福路人行道地砖松动. "
        "市政管理处 has left it unresolved 7 working days past its deadline."
    )


def test_the_draft_is_written_in_the_install_language_whatever_the_request():
    case = escalated_case()
    EventFactory(case=case, action="register", public=True, created_at=RECEIVED)

    with translation.override("en"):
        content = story_draft_content(case, now=NOW)

    html = body_html(content)
    assert "2026年3月2日" in html
    assert "2026年3月9日 17:30" in html
    assert "诉求办理经过" in html  # the timeline's heading, from the catalogue
    assert "March" not in html


def test_the_public_timeline_is_quoted_and_nothing_internal(english):
    case = escalated_case()
    EventFactory(
        case=case, action="register", public=True, created_at=aware(2026, 3, 2, 9)
    )
    EventFactory(
        case=case,
        action="dispatch",
        public=True,
        note="派至市政管理处，联系周建国13812345678",
        created_at=aware(2026, 3, 2, 10),
    )
    EventFactory(
        case=case,
        action="return_case",
        public=True,  # a return is internal whatever the flag says
        note="不属我处职责",
        created_at=aware(2026, 3, 4, 10),
    )
    EventFactory(
        case=case,
        action="note",
        public=False,
        note="内部：请勿外传",
        created_at=aware(2026, 3, 5, 10),
    )

    kind, timeline = story_draft_content(case, now=NOW)["body"][1]

    assert kind == "paragraph"
    assert timeline == (
        "<h3>How the case went</h3><ul>"
        "<li>March 2, 2026, 9 a.m. Request received</li>"
        "<li>March 2, 2026, 10 a.m. Dispatched to the department: "
        "“派至市政管理处，联系周某***********”</li>"
        "</ul>"
    )


def test_the_draft_ends_with_a_box_for_the_reporter(english):
    kind, box = story_draft_content(escalated_case(), now=NOW)["body"][-1]

    assert kind == "box"
    assert box["heading"] == "Reporter's follow-up"
    assert (
        box["text"].source
        == "<p>(The reporter&#x27;s interviews and on-site checks)</p>"
    )


def test_text_is_redacted_before_it_is_cut():
    # The phone number straddles the cut: cut first, half of it would be left.
    description = "地砖松动" * 73 + "13912345678" + "请尽快处理"
    content = story_draft_content(escalated_case(description=description), now=NOW)

    html = body_html(content)
    assert "1391" not in html
    assert "地砖松动" in html


def test_text_from_the_case_is_escaped_into_the_rich_text():
    case = escalated_case(description="<img src=x onerror=alert(1)>地砖松动")

    content = story_draft_content(case, now=NOW)

    html = body_html(content)
    assert "<img" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


# --- the story made from it -----------------------------------------------------------


def test_the_story_is_saved_with_the_draft_and_its_box_is_editable(english):
    case = escalated_case()

    story = HotTrackingPage.objects.get(pk=story_create_for_case(case=case, now=NOW).pk)

    assert story.title == story_draft_content(case, now=NOW)["title"]
    kinds = [block.block_type for block in story.body]
    assert kinds[0] == "paragraph" and kinds[-1] == "box"
    box = story.body[-1].value
    assert box["heading"] == "Reporter's follow-up"
    assert "on-site checks" in box["text"].source
    raw = json.dumps(list(story.body.raw_data), ensure_ascii=False)
    for value in PERSONAL:
        assert value not in raw and value not in story.title


def test_personal_data_an_editor_types_into_the_box_is_found():
    story = story_create_for_case(case=escalated_case(), now=NOW)
    story = HotTrackingPage.objects.get(pk=story.pk)
    story.body[-1].value["text"].source = "<p>记者致电13712345678核实</p>"

    assert "13712345678" in draft_text(story)
    assert find_personal_data(draft_text(story), case=story.case)


def test_the_supervisors_button_makes_the_new_draft(english):
    case = escalated_case()

    story = case_services.case_request_story(case=case.pk, user=supervisor(), now=NOW)

    story = HotTrackingPage.objects.get(pk=story.pk)
    assert story.title == story_draft_content(case, now=NOW)["title"]
    assert story.body[-1].block_type == "box"


SCAN_NOW = aware(2026, 11, 26, 10)


def test_the_scan_makes_the_new_draft_in_the_install_language(
    hot_tracking_site, calendar_2026
):
    case = CaseFactory(
        state=State.DISPATCHED,
        is_efficiency=True,
        category=CategoryFactory(escalation_threshold_days=3),
        title="人行道地砖松动",
        location_text="镜湖区幸福路18号",
        dispatched_at=aware(2026, 11, 11, 9),
        due_at=aware(2026, 11, 18, 18),  # 5 full working days before SCAN_NOW
    )

    with translation.override("en"):  # whatever the worker's language
        scan_overdue(now=SCAN_NOW)

    story = HotTrackingPage.objects.get(case=case)
    assert story.title.startswith("幸福路人行道地砖松动 ")
    assert "5" in story.title
    assert story.body[-1].block_type == "box"
    assert "2026年11月18日 18:00" in story.body[0].value.source


# --- the case panel in the story editor ---------------------------------------------


def test_the_case_panel_shows_deadline_overdue_figures_department_and_reference(
    client, calendar_2026
):
    case = escalated_case(
        due_at=DUE + timedelta(days=7),  # extended after the paper took it up
    )
    story = story_create_for_case(case=case, now=NOW)
    client.force_login(staff(roles.EDITORS))

    response = client.get(reverse("wagtailadmin_pages:edit", args=[story.pk]))

    assert response.status_code == 200
    html = response.content.decode()
    facts = html[html.index('class="case-facts"') :]
    facts = facts[: facts.index("</dl>")]
    assert case.reference in facts
    assert "市政管理处" in facts
    assert "2026年3月16日 17:30" in facts  # the deadline now, local time
    assert "2026年3月9日 17:30" in facts  # the one the paper reported
    assert "2026年3月18日 18:00" in facts  # when it was handed to the paper
    with translation.override("zh-hans"):
        now_days = case.working_days_overdue(timezone.now())
        assert (
            translation.ngettext(
                "Overdue by %(days)s working day", "Overdue by %(days)s working days", 7
            )
            % {"days": 7}
            in facts
        )
        assert (
            translation.ngettext(
                "Overdue by %(days)s working day",
                "Overdue by %(days)s working days",
                now_days,
            )
            % {"days": now_days}
            in facts
        )
