"""Duplicate reports: which open cases may repeat a new one, the warning on its
case page, and merging it through the admin's registry action."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from bs4 import BeautifulSoup
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from wagtail.users.models import UserProfile

from tests.factories import (
    CaseFactory,
    CategoryFactory,
    DepartmentFactory,
    aware,
    case_in_state,
    liaison,
    officer,
)
from tracking.duplicates import (
    NEAR,
    SAME_LOCATION,
    SAME_TITLE,
    SIMILAR_TEXT,
    distance_m,
    possible_duplicates,
)
from tracking.models import Case, CaseEvent, State

pytestmark = pytest.mark.django_db

NOW = aware(2026, 11, 27, 10)
CASES_URL = "/admin/tracking/cases/"
# A point in the city; 0.001° of latitude is about 111 m.
LAT, LON = Decimal("36.651200"), Decimal("117.120100")


@pytest.fixture(autouse=True)
def frozen_now():
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.fixture
def category():
    return CategoryFactory(name="路灯")


def report(category, state="registered", **fields):
    defaults = {
        "title": "幸福路路灯不亮",
        "description": "幸福路12号门口的路灯坏了一周，晚上很黑。",
        "category": category,
        "registered_at": NOW - timedelta(hours=1),
    }
    return case_in_state(state, **{**defaults, **fields})


def unrelated(category, **fields):
    """A report of something else, elsewhere: nothing in common but the category."""
    defaults = {
        "title": "公园长椅损坏",
        "description": "人民公园东门的长椅断了两块木板。",
        "location_text": "人民公园东门",
    }
    return report(category, **{**defaults, **fields})


def references(cases) -> list[str]:
    return [case.reference for case in cases]


def client_for(user) -> Client:
    profile = UserProfile.get_for_user(user)
    profile.preferred_language = "en"
    profile.save()
    client = Client()
    client.force_login(user)
    return client


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.content.decode(), "html.parser")


def merge_input(page):
    """The merge dialog's field (in a <template>, which CSS selectors skip)."""
    form = page.find("form", attrs={"data-case-action-form": "merge"})
    return form.find("input", attrs={"name": "into"})


# --- the selector -----------------------------------------------------------------


def test_haversine_distance():
    # 0.001° of latitude is 111.2 m on the sphere.
    assert distance_m(LAT, LON, LAT + Decimal("0.001"), LON) == pytest.approx(
        111.2, abs=0.5
    )
    assert distance_m(LAT, LON, LAT, LON) == 0


def test_a_report_nearby_is_a_possible_duplicate_and_one_further_away_is_not(
    category,
):
    new = unrelated(category, latitude=LAT, longitude=LON, location_text="")
    near = unrelated(
        category,
        title="路灯",
        description="灯坏了",
        location_text="",
        latitude=LAT + Decimal("0.0015"),  # ~167 m north
        longitude=LON,
    )
    unrelated(
        category,
        title="井盖",
        description="缺了",
        location_text="",
        latitude=LAT + Decimal("0.0020"),  # ~222 m: beyond 200 m
        longitude=LON,
    )
    # Inside the bounding box's corner, but more than 200 m away.
    unrelated(
        category,
        title="垃圾",
        description="没清",
        location_text="",
        latitude=LAT + Decimal("0.0017"),
        longitude=LON + Decimal("0.0021"),
    )

    found = possible_duplicates(new)

    assert references(found) == [near.reference]
    assert found[0].duplicate_reasons == [NEAR]
    assert found[0].distance_m == pytest.approx(167, abs=2)


def test_the_distance_is_a_setting(category, settings):
    settings.TRACKING_DUPLICATE_DISTANCE_M = 100
    new = unrelated(category, latitude=LAT, longitude=LON, location_text="")
    unrelated(
        category,
        title="路灯",
        description="灯坏了",
        location_text="",
        latitude=LAT + Decimal("0.0015"),
        longitude=LON,
    )

    assert possible_duplicates(new) == []


def test_the_same_location_text_makes_a_possible_duplicate(category):
    new = unrelated(category, location_text="幸福路12号")
    same = unrelated(
        category, title="路灯", description="灯坏了", location_text=" 幸福路12号 "
    )

    found = possible_duplicates(new)

    assert references(found) == [same.reference]
    assert found[0].duplicate_reasons == [SAME_LOCATION]


def test_the_same_title_in_other_spelling_makes_a_possible_duplicate(category):
    new = unrelated(category, title="幸福路 路灯不亮！", location_text="")
    same = unrelated(
        category,
        title="幸福路路灯不亮",
        description="另一段完全不同的描述。",
        location_text="",
    )

    found = possible_duplicates(new)

    assert references(found) == [same.reference]
    assert found[0].duplicate_reasons == [SAME_TITLE]


def test_a_very_similar_text_makes_a_possible_duplicate(category):
    new = report(category, title="幸福路路灯不亮", location_text="")
    similar = report(
        category,
        title="幸福路的路灯不亮",
        description="幸福路12号门口的路灯坏了一周了，晚上很黑。",
        location_text="",
    )
    unrelated(category, location_text="")

    found = possible_duplicates(new)

    assert references(found) == [similar.reference]
    assert found[0].duplicate_reasons == [SIMILAR_TEXT]
    assert found[0].similarity >= 0.8


def test_only_open_unmerged_other_cases_of_the_category_and_window_count(category):
    new = report(category, location_text="幸福路12号")
    kept = report(category, location_text="幸福路12号")
    report(CategoryFactory(), location_text="幸福路12号")  # another category
    report(category, location_text="幸福路12号", registered_at=NOW - timedelta(days=8))
    report(category, location_text="幸福路12号", registered_at=NOW + timedelta(days=8))
    for state in ("closed", "merged", "withdrawn", "rejected"):
        report(category, state=state, location_text="幸福路12号")

    assert references(possible_duplicates(new)) == [kept.reference]


def test_a_report_registered_within_the_window_after_it_counts(category, settings):
    settings.TRACKING_DUPLICATE_WINDOW_DAYS = 3
    new = report(category, location_text="幸福路12号")
    later = report(
        category, location_text="幸福路12号", registered_at=NOW + timedelta(days=2)
    )
    report(category, location_text="幸福路12号", registered_at=NOW - timedelta(days=4))

    assert references(possible_duplicates(new)) == [later.reference]


def test_stronger_matches_come_first_then_the_earliest_and_a_limit(category):
    new = report(category, location_text="幸福路12号", latitude=LAT, longitude=LON)
    weak_early = report(
        category,
        title="别的",
        description="别的事",
        location_text="幸福路12号",
        registered_at=NOW - timedelta(days=2),
    )
    strong = report(category, location_text="幸福路12号", latitude=LAT, longitude=LON)
    weak_late = report(
        category,
        title="别的",
        description="别的事",
        location_text="幸福路12号",
        registered_at=NOW - timedelta(minutes=10),
    )

    found = possible_duplicates(new)

    assert references(found) == [
        strong.reference,
        weak_early.reference,
        weak_late.reference,
    ]
    assert found[0].duplicate_reasons == [NEAR, SAME_LOCATION, SAME_TITLE]
    assert references(possible_duplicates(new, limit=1)) == [strong.reference]


def test_a_liaison_is_offered_only_their_departments_cases(category):
    other_department = DepartmentFactory()
    new = report(category, location_text="幸福路12号")
    theirs = report(category, location_text="幸福路12号")
    report(category, location_text="幸福路12号", department=other_department)

    found = possible_duplicates(new, user=liaison(category.default_department))

    assert references(found) == [theirs.reference]


def test_the_search_reads_two_bounded_queries_however_many_cases(
    category, django_assert_max_num_queries
):
    new = report(category, location_text="幸福路12号", latitude=LAT, longitude=LON)
    CaseFactory.create_batch(
        30,
        category=category,
        title="别的",
        description="别的事",
        registered_at=NOW - timedelta(hours=2),
    )

    with django_assert_max_num_queries(2):
        found = possible_duplicates(new)
    assert found == []


# --- the case page and the merge ----------------------------------------------------


def test_the_case_page_warns_of_possible_duplicates_and_prefills_the_merge(category):
    original = report(category, state="dispatched", registered_at=NOW - timedelta(2))
    new = report(category)

    page = soup(client_for(officer()).get(f"{CASES_URL}{new.pk}/"))

    panel = page.select_one("[data-possible-duplicates]")
    assert panel is not None
    rows = panel.select("[data-duplicate]")
    assert [row["data-duplicate"] for row in rows] == [original.reference]
    row = rows[0].get_text(" ", strip=True)
    assert "幸福路路灯不亮" in row
    assert "Dispatched" in row
    assert "same title" in row
    assert rows[0].select_one("a")["href"] == f"{CASES_URL}{original.pk}/"
    assert merge_input(page)["value"] == original.reference


def test_no_warning_once_a_department_works_on_the_case(category):
    report(category, state="accepted")
    working = report(category, state="in_progress")

    page = soup(client_for(officer()).get(f"{CASES_URL}{working.pk}/"))

    assert page.select_one("[data-possible-duplicates]") is None


def test_no_warning_without_a_possible_duplicate(category):
    new = report(category)
    unrelated(category)

    page = soup(client_for(officer()).get(f"{CASES_URL}{new.pk}/"))

    assert page.select_one("[data-possible-duplicates]") is None
    assert merge_input(page).get("value") in (None, "")


def test_merging_through_the_admin_closes_the_duplicate_with_one_event(category):
    original = report(category, state="accepted", registered_at=NOW - timedelta(1))
    duplicate = report(category)
    client = client_for(officer())

    response = client.post(
        f"{CASES_URL}{duplicate.pk}/transitions/merge/",
        {"expect_state": "registered", "into": original.reference},
    )

    assert response.status_code == 302
    assert response["Location"] == f"{CASES_URL}{duplicate.pk}/"
    duplicate.refresh_from_db()
    assert (duplicate.state, duplicate.duplicate_of) == (State.MERGED, original)
    events = list(CaseEvent.objects.filter(case=duplicate))
    assert [(e.action, e.note) for e in events] == [("merge", original.reference)]
    assert not CaseEvent.objects.filter(case=original).exists()
    page = soup(client.get(f"{CASES_URL}{duplicate.pk}/"))
    assert page.select_one("[data-case-state]")["data-case-state"] == "merged"
    assert page.select_one("[data-possible-duplicates]") is None


def test_a_merge_into_an_unknown_case_is_refused_with_a_message(category):
    duplicate = report(category)

    response = client_for(officer()).post(
        f"{CASES_URL}{duplicate.pk}/transitions/merge/",
        {"expect_state": "registered", "into": "8890-20990101-99999"},
        follow=True,
    )

    assert response.status_code == 200
    assert "Choose the case this report duplicates." in soup(response).get_text()
    assert Case.objects.get(pk=duplicate.pk).state == State.REGISTERED
    assert not CaseEvent.objects.exists()


@pytest.mark.parametrize(
    ("state", "offered"),
    [
        ("registered", True),
        ("accepted", True),
        ("returned", True),
        ("dispatched", False),
        ("in_progress", False),
        ("replied", False),
        ("closed", False),
    ],
)
def test_the_merge_button_is_offered_only_in_mergeable_states(category, state, offered):
    case = report(category, state=state)

    page = soup(client_for(officer()).get(f"{CASES_URL}{case.pk}/"))

    assert (page.select_one("[data-case-action=merge]") is not None) is offered


def test_a_liaison_sees_no_merge_button_and_may_not_merge(category):
    original = report(category, state="accepted")
    returned = report(category, state="returned")
    client = client_for(liaison(category.default_department))

    page = soup(client.get(f"{CASES_URL}{returned.pk}/"))
    response = client.post(
        f"{CASES_URL}{returned.pk}/transitions/merge/",
        {"expect_state": "returned", "into": original.reference},
    )

    assert page.select_one("[data-case-action=merge]") is None
    assert response.status_code == 403
    returned.refresh_from_db()
    assert (returned.state, returned.duplicate_of) == (State.RETURNED, None)
    assert not CaseEvent.objects.exists()


def test_the_case_page_query_count_does_not_grow_with_possible_duplicates(category):
    client = client_for(officer())
    new = report(category)

    def queries() -> int:
        client.get(f"{CASES_URL}{new.pk}/")
        with CaptureQueriesContext(connection) as captured:
            response = client.get(f"{CASES_URL}{new.pk}/")
        assert response.status_code == 200
        return len(captured)

    report(category)
    few = queries()
    for _ in range(10):
        report(category)
    assert queries() == few
