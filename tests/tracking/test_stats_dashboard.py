"""The staff statistics dashboard: filtered figures from the rollups, a liaison's
department only, CSV and Excel exports that match, and no 5xx on bad filters."""

from __future__ import annotations

import csv
import io
from datetime import date

import openpyxl
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
    liaison,
    officer,
    staff,
    supervisor,
)
from tracking import roles
from tracking.models import (
    CallDay,
    CaseDay,
    FirstContactDay,
    Kind,
    MediaEffectDay,
    ReplyDays,
)
from tracking.models.statistics import NO_RESPONSE
from tracking.statistics import periods
from tracking.statistics.dashboard import Dashboard, DashboardFilters

pytestmark = pytest.mark.django_db

NOW = aware(2026, 11, 27, 10)
URL = "/admin/tracking/statistics/"
NOVEMBER = {"period": "2026-11"}


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(autouse=True)
def small_sample(settings):
    settings.STATISTICS_MIN_SAMPLE = 2


def client_for(user) -> Client:
    profile = UserProfile.get_for_user(user)
    profile.preferred_language = "en"
    profile.save()
    client = Client()
    client.force_login(user)
    return client


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.content.decode(), "html.parser")


def figure(page, name) -> str:
    return page.select_one(f"[data-figure='{name}']").get_text(" ", strip=True)


def day_row(department, category, kind, day, *, efficiency=False, **counts):
    return CaseDay.objects.create(
        day=day,
        department_id=department.pk,
        category_id=category.pk,
        kind=kind,
        is_efficiency=efficiency,
        **counts,
    )


def replies(department, category, kind, day, working_days, n, *, efficiency=False):
    ReplyDays.objects.create(
        day=day,
        department_id=department.pk,
        category_id=category.pk,
        kind=kind,
        is_efficiency=efficiency,
        working_days=working_days,
        replies=n,
    )


@pytest.fixture
def world():
    """Rollups of two departments in October and November 2026, and one case of
    department B overdue now."""
    a = DepartmentFactory(name="甲局")
    b = DepartmentFactory(name="乙局")
    x = CategoryFactory(name="噪声", default_department=a)
    y = CategoryFactory(name="供水", default_department=a)
    nov10, nov11 = date(2026, 11, 10), date(2026, 11, 11)
    complaint, help_ = Kind.COMPLAINT, Kind.HELP
    day_row(
        a, x, complaint, nov10, efficiency=True,
        registered=4, accepted=4, dispatched=4, acknowledged=3,
        acknowledged_on_time=2, completed=1, returned=1, escalated=1,
        callbacks_satisfied=1, callbacks_phone=1,
    )  # fmt: skip
    day_row(
        a, y, help_, nov11,
        registered=2, accepted=2, dispatched=2, acknowledged=2,
        acknowledged_on_time=2, completed=2, callbacks_satisfied=1,
        callbacks_dissatisfied=1, callbacks_home_visit=2,
    )  # fmt: skip
    day_row(
        b, x, complaint, nov11,
        registered=5, dispatched=5, acknowledged=1, acknowledged_on_time=1,
        callbacks_unreachable=1, callbacks_media_joint=1,
    )  # fmt: skip
    day_row(
        a, x, complaint, date(2026, 10, 5), efficiency=True,
        registered=7, dispatched=7,
    )  # fmt: skip
    replies(a, x, complaint, nov10, 2, 1, efficiency=True)
    replies(a, x, complaint, nov10, 4, 2, efficiency=True)
    replies(a, y, help_, nov11, 1, 1)
    replies(b, x, complaint, nov11, 6, 3)
    CallDay.objects.bulk_create(
        [
            CallDay(day=nov10, calls=30),
            CallDay(day=nov11, calls=50),
            CallDay(day=date(2026, 10, 5), calls=99),
        ]
    )
    FirstContactDay.objects.bulk_create(
        [
            FirstContactDay(day=nov11, heard_of="", callers=3),
            FirstContactDay(day=nov11, heard_of="friend", callers=2),
            FirstContactDay(day=date(2026, 10, 5), heard_of="", callers=4),
        ]
    )
    MediaEffectDay.objects.create(
        day=nov10, department_id=a.pk, reported=True, response_days=2,
        solved_within_7=True, cases=1,
    )  # fmt: skip
    MediaEffectDay.objects.create(
        day=date(2026, 11, 12), department_id=b.pk, reported=False,
        response_days=NO_RESPONSE, solved_within_7=False, cases=2,
    )  # fmt: skip
    CaseFactory(overdue=True, category=x, department=b)
    return {"a": a, "b": b, "x": x, "y": y}


def dashboard(**kwargs) -> Dashboard:
    return Dashboard(DashboardFilters(period=periods.parse("2026-11"), **kwargs))


# --- the figures -------------------------------------------------------------------


def test_unfiltered_headline_has_the_calls_and_the_cases_of_the_period(world):
    headline = dashboard().headline()

    assert headline.calls == 80
    assert (headline.busiest_day, headline.busiest_day_calls) == (
        date(2026, 11, 11),
        50,
    )
    assert (headline.registered, headline.accepted, headline.completed) == (11, 6, 3)
    callbacks = headline.callbacks
    assert (callbacks.satisfied, callbacks.dissatisfied, callbacks.unreachable) == (
        2,
        1,
        1,
    )
    assert callbacks.by_method == {"phone": 1, "home_visit": 2, "media_joint": 1}


@pytest.mark.parametrize(
    ("filters", "registered"),
    [
        ({"kind": Kind.COMPLAINT}, 9),
        ({"kind": Kind.HELP}, 2),
        ({"efficiency_only": True}, 4),
        ("x", 9),
        ("y", 2),
        ("a", 6),
        ("b", 5),
    ],
)
def test_each_filter_narrows_the_cases_and_drops_the_calls(world, filters, registered):
    if isinstance(filters, str):
        key = "department_id" if filters in ("a", "b") else "category_id"
        filters = {key: world[filters].pk}

    headline = dashboard(**filters).headline()

    assert headline.registered == registered
    assert headline.calls is None  # the call log has no such dimension


def test_department_table_has_the_three_rates_median_and_ranks(world):
    a, b = dashboard().departments()

    assert (a.name, a.rank, b.name, b.rank) == ("甲局", 1, "乙局", 2)
    assert (a.dispatched, a.response.numerator, a.resolution.numerator) == (6, 4, 3)
    assert (a.satisfaction.numerator, a.satisfaction.sample) == (2, 3)
    assert a.median_reply_days == 3.0  # 1, 2, 4, 4 working days
    assert (a.replies, a.returned, a.escalated, a.overdue_now) == (4, 1, 1, 0)
    assert (b.response.percent, b.resolution.percent) == ("20.0%", "0.0%")
    assert b.satisfaction.value is None  # no callback reached anyone
    assert (b.median_reply_days, b.overdue_now) == (6.0, 1)


def test_a_department_filter_keeps_its_rank_among_all(world):
    (only,) = dashboard(department_id=world["b"].pk).departments()

    assert (only.name, only.rank) == ("乙局", 2)


def test_a_category_filter_ranks_within_the_category(world):
    table = dashboard(category_id=world["y"].pk).departments()

    assert [(d.name, d.dispatched, d.rank) for d in table] == [("甲局", 2, 1)]


def test_media_effect_compares_reported_with_unreported(world):
    effect = dashboard().media_effect()

    assert (effect.reported.cases, effect.reported.median_days_to_response) == (1, 2)
    assert effect.reported.solved_within_7.numerator == 1
    assert (effect.unreported.cases, effect.unreported.responded) == (2, 0)
    assert dashboard(department_id=world["a"].pk).media_effect().unreported.cases == 0
    assert dashboard(kind=Kind.HELP).media_effect() is None


def test_daily_rows_run_from_the_first_figure_to_today_latest_first(world):
    rows = dashboard().daily()

    assert (rows[0].day, rows[-1].day, len(rows)) == (
        date(2026, 11, 27),
        date(2026, 11, 10),
        18,
    )
    eleventh = next(row for row in rows if row.day == date(2026, 11, 11))
    assert (eleventh.calls, eleventh.counts["registered"]) == (50, 7)
    assert [row.calls for row in dashboard(kind=Kind.HELP).daily()][-2:] == [
        None,
        None,
    ]


def test_the_page_shows_the_filtered_figures(world):
    response = client_for(officer()).get(URL, {**NOVEMBER, "kind": "complaint"})

    assert response.status_code == 200
    page = soup(response)
    assert figure(page, "registered") == "9"
    assert figure(page, "calls") == "—"
    assert page.select_one("[data-calls-not-filtered]")
    rows = page.select("[data-stats-departments] tbody tr")
    assert [row.th.get_text(strip=True) for row in rows] == ["甲局", "乙局"]
    assert page.select_one("[data-media-not-filtered]")


def test_the_page_without_filters_shows_calls_and_media_effect(world):
    page = soup(client_for(officer()).get(URL, NOVEMBER))

    assert figure(page, "calls") == "80"
    assert figure(page, "callbacks-home-visit") == "2"
    assert len(page.select("[data-stats-media] tbody tr")) == 2
    assert page.select_one("[data-day='2026-11-11']")


def test_from_and_to_dates_take_the_place_of_the_period(world):
    page = soup(
        client_for(officer()).get(
            URL, {"period": "2026", "start": "2026-11-11", "end": "2026-11-11"}
        )
    )

    assert figure(page, "registered") == "7"
    assert figure(page, "calls") == "50"


def test_since_launch_starts_on_the_first_day_with_figures(world):
    page = soup(client_for(officer()).get(URL))

    assert figure(page, "registered") == "18"
    assert figure(page, "calls") == "179"


def test_the_menu_has_statistics_under_the_hotline(world):
    page = client_for(officer()).get("/admin/").content.decode()

    assert URL in page


def test_the_page_reads_a_fixed_number_of_queries(world):
    client = client_for(supervisor())
    client.get(URL, NOVEMBER)  # warm the session and the permission caches
    with CaptureQueriesContext(connection) as few:
        client.get(URL, NOVEMBER)
    for n in range(15):
        department = DepartmentFactory(name=f"部门{n}")
        day_row(department, world["x"], Kind.HELP, date(2026, 11, 1 + n), dispatched=3)
    with CaptureQueriesContext(connection) as many:
        client.get(URL, NOVEMBER)

    assert len(many) == len(few)


# --- who sees what -----------------------------------------------------------------


def test_a_liaison_sees_only_their_department(world):
    client = client_for(liaison(world["a"]))

    page = soup(client.get(URL, NOVEMBER))

    assert figure(page, "registered") == "6"
    rows = page.select("[data-stats-departments] tbody tr")
    assert [row.th.get_text(strip=True) for row in rows] == ["甲局"]
    assert "乙局" not in page.select_one("[data-stats-departments]").get_text()


def test_a_liaison_cannot_ask_for_another_department(world):
    client = client_for(liaison(world["a"]))

    response = client.get(URL, {**NOVEMBER, "department": world["b"].pk})
    exported = client.get(
        f"{URL}departments.csv", {**NOVEMBER, "department": world["b"].pk}
    )

    assert response.status_code == 200
    page = soup(response)
    assert figure(page, "registered") == "6"
    rows = page.select("tbody tr[data-department]")
    assert [row.th.get_text(strip=True) for row in rows] == ["甲局"]
    names = [row[1] for row in csv_rows(exported)[1:]]
    assert names == ["甲局"]


@pytest.mark.parametrize(
    "make_user",
    [
        lambda world: staff(roles.EDITORS),
        lambda world: staff(roles.DEPARTMENT_LIAISONS),  # no department
    ],
)
def test_users_without_a_case_role_are_refused(world, make_user):
    client = client_for(make_user(world))

    assert client.get(URL).status_code == 403
    assert client.get(f"{URL}departments.csv").status_code == 403
    assert URL not in client.get("/admin/").content.decode()


def test_anonymous_users_are_sent_to_sign_in(world):
    response = Client().get(URL)

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


# --- bad filters -------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        {"period": "junk"},
        {"period": "2026-13"},
        {"period": "2026-03-01..2026-01-01"},
        {"period": "2026\x00"},
        {"period": "9" * 5000},
        {"start": "2026-11-01"},
        {"start": "2026-11-30", "end": "2026-11-01"},
        {"start": "1990-01-01", "end": "2026-01-01"},
        {"start": "2026-02-30", "end": "2026-03-01"},
        {"start": "0001-01-01", "end": "0001-01-31"},
        {"period": "9999-12-01..9999-12-31"},
        {"department": "abc"},
        {"department": "999999"},
        {"department": "9" * 40},
        {"department": "-1"},
        {"category": "1e10"},
        {"kind": "rant"},
        {"kind": "\x00"},
    ],
)
def test_bad_filters_show_the_form_error_not_a_server_error(world, query):
    client = client_for(officer())

    response = client.get(URL, query)
    exported = client.get(f"{URL}daily.xlsx", query)

    assert response.status_code == 400
    page = soup(response)
    errors = page.select("form .error-message, form li.error")
    assert any(error.get_text(strip=True) for error in errors)
    assert not page.select_one("[data-stats-headline]")
    assert exported.status_code == 400
    assert exported.content.decode()


def test_unknown_export_is_a_404(world):
    client = client_for(officer())

    assert client.get(f"{URL}departments.pdf", follow=True).status_code == 404
    assert client.get(f"{URL}cases.csv", follow=True).status_code == 404


# --- exports -------------------------------------------------------------------------


def csv_rows(response) -> list[list[str]]:
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def xlsx_rows(response) -> list[tuple]:
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    return list(book.active.iter_rows(values_only=True))


A_ROW = ["1", "甲局", "6", "66.7%", "4", "50.0%", "3", "66.7%", "2", "3", "3.0"]
A_ROW += ["4", "1", "1", "0"]
B_ROW = ["2", "乙局", "5", "20.0%", "1", "0.0%", "0", "", "0", "0", "6.0"]
B_ROW += ["3", "0", "0", "1"]


def test_department_csv_matches_the_table(world):
    response = client_for(officer()).get(f"{URL}departments.csv", NOVEMBER)

    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    header, *rows = csv_rows(response)
    assert header[:4] == ["Rank", "Department", "Dispatched", "Response rate"]
    assert rows == [A_ROW, B_ROW]


def test_department_xlsx_matches_the_table(world):
    response = client_for(officer()).get(f"{URL}departments.xlsx", NOVEMBER)

    assert response.status_code == 200
    header, a, b = xlsx_rows(response)
    assert header[1] == "Department"
    assert a[:3] == (1, "甲局", 6)
    assert a[3] == pytest.approx(4 / 6)
    assert a[5:11] == (0.5, 3, pytest.approx(2 / 3), 2, 3, 3)
    assert b[7] is None  # too few callbacks for a satisfaction rate
    assert b[-1] == 1


def test_daily_exports_have_every_day_of_the_filters(world):
    client = client_for(officer())

    rows = csv_rows(client.get(f"{URL}daily.csv", NOVEMBER))
    sheet = xlsx_rows(client.get(f"{URL}daily.xlsx", NOVEMBER))
    narrowed = csv_rows(client.get(f"{URL}daily.csv", {**NOVEMBER, "kind": "help"}))

    header, *days = rows
    assert header[:4] == ["day", "calls", "first-time callers", "registered"]
    assert len(days) == 18
    eleventh = next(row for row in days if row[0] == "2026-11-11")
    assert eleventh[1:4] == ["50", "5", "7"]
    tenth = next(row for row in days if row[0] == "2026-11-10")
    assert tenth[1:3] == ["30", "0"]
    assert len(sheet) == 19
    assert next(r for r in sheet[1:] if r[0].date() == date(2026, 11, 11))[1:4] == (
        50,
        5,
        7,
    )
    # Calls and first-time callers have no department, category or kind.
    assert narrowed[0][:2] == ["day", "registered"]


def test_the_daily_table_shows_first_time_callers(world):
    client = client_for(officer())

    page = soup(client.get(URL, NOVEMBER))
    narrowed = soup(client.get(URL, {**NOVEMBER, "kind": "help"}))

    eleventh = page.select_one('[data-stats-daily] tr[data-day="2026-11-11"]')
    assert eleventh.select_one("[data-first-time]").get_text(strip=True) == "5"
    assert not narrowed.select("[data-stats-daily] [data-first-time]")


def test_exports_write_names_as_text_not_formulas(world):
    world["a"].name = '=HYPERLINK("http://example.com","x")'
    world["a"].save()
    client = client_for(officer())

    rows = csv_rows(client.get(f"{URL}departments.csv", NOVEMBER))
    book = openpyxl.load_workbook(
        io.BytesIO(client.get(f"{URL}departments.xlsx", NOVEMBER).content)
    )

    assert rows[1][1].startswith("'=")
    cell = book.active["B2"]
    assert cell.data_type == "s"
    assert cell.value.startswith("'=")
