"""A fresh install counts 2026 right: the migrations seed the official calendar.

The test database is made by ``migrate``, so what these tests see before they change
anything is what a fresh install has. The 2026 dates are the State Council's, as
shipped in ``chinesecalendar``: Spring Festival 15–23 February with make-up workdays
on Saturday 14 and Saturday 28 February; National Day 1–7 October with make-up
workdays on Sunday 20 September and Saturday 10 October.
"""

from __future__ import annotations

import importlib
import logging
from datetime import date

import chinese_calendar
import pytest
from django.apps import apps

from tests.factories import aware
from tracking import calendar
from tracking.calendar import (
    HOLIDAY_NAMES,
    WorkCalendar,
    deadline_after,
    is_workday,
    missing_years,
)
from tracking.models import CalendarYear, WorkingCalendar

pytestmark = pytest.mark.django_db

D = date
seed_migration = importlib.import_module(
    "tracking.migrations.0012_seed_official_calendar"
)

HOLIDAYS_2026 = [
    *[D(2026, 2, n) for n in range(15, 24)],
    *[D(2026, 10, n) for n in range(1, 8)],
]
MAKE_UP_DAYS_2026 = [D(2026, 2, 14), D(2026, 2, 28), D(2026, 9, 20), D(2026, 10, 10)]


@pytest.fixture
def without_the_package(monkeypatch):
    """As if chinesecalendar knew no year: only the table can say what 2026 is."""
    monkeypatch.setattr(calendar, "_package_days", dict)


def test_migrate_imports_every_year_chinesecalendar_knows_as_a_whole():
    package_years = {day.year for day in chinese_calendar.holidays}

    years = CalendarYear.objects.filter(year__in=package_years)

    assert set(years.values_list("year", flat=True)) == package_years
    assert {(y.source, y.imported_by) for y in years} == {("chinesecalendar", None)}
    assert set(
        WorkingCalendar.objects.filter(date__year=2026).values_list("source", flat=True)
    ) == {"chinesecalendar"}


def test_fresh_database_counts_2026_from_its_table(without_the_package, caplog):
    with caplog.at_level(logging.WARNING, logger="tracking.calendar"):
        for day in HOLIDAYS_2026:
            assert not is_workday(day), day
        for day in MAKE_UP_DAYS_2026:
            assert is_workday(day), day
        # Friday 13, make-up Saturday 14, then Tuesday 24 February.
        assert deadline_after(aware(2026, 2, 12, 9), 3) == aware(2026, 2, 24, 18)
        # 30 September, 8, 9, make-up Saturday 10 and 12 October.
        assert deadline_after(aware(2026, 9, 29, 15), 5) == aware(2026, 10, 12, 18)

    assert not caplog.records
    assert missing_years([2026]) == []


def test_fresh_database_stores_holiday_names_in_chinese():
    names = dict(
        WorkingCalendar.objects.filter(date__year=2026).values_list("date", "name")
    )

    assert names[D(2026, 1, 1)] == "元旦"
    assert names[D(2026, 2, 17)] == "春节"
    assert names[D(2026, 4, 5)] == "清明节"
    assert names[D(2026, 5, 1)] == "劳动节"
    assert names[D(2026, 6, 19)] == "端午节"
    assert names[D(2026, 9, 25)] == "中秋节"
    assert names[D(2026, 10, 1)] == "国庆节"
    assert names[D(2026, 2, 14)] == "春节调休上班"
    assert names[D(2026, 10, 10)] == "国庆节调休上班"
    assert not WorkingCalendar.objects.filter(name__in=HOLIDAY_NAMES).exists()


def test_an_emptied_table_falls_back_to_the_chinesecalendar_package(caplog):
    WorkingCalendar.objects.all().delete()
    CalendarYear.objects.all().delete()

    with caplog.at_level(logging.WARNING, logger="tracking.calendar"):
        for day in HOLIDAYS_2026:
            assert not is_workday(day), day
        for day in MAKE_UP_DAYS_2026:
            assert is_workday(day), day

    assert not caplog.records
    assert missing_years([2025, 2026]) == []


def test_a_row_added_by_hand_counts_on_top_of_the_package_year():
    WorkingCalendar.objects.all().delete()
    CalendarYear.objects.all().delete()
    WorkingCalendar.objects.create(date=D(2026, 10, 8), is_workday=False, name="台风")

    assert not is_workday(D(2026, 10, 8))
    assert is_workday(D(2026, 10, 10))  # the package's make-up Saturday still


def test_an_imported_year_counts_only_its_rows(without_the_package):
    WorkingCalendar.objects.filter(date=D(2026, 10, 1)).delete()

    # The table is the whole truth of an imported year: nothing fills the gap.
    assert is_workday(D(2026, 10, 1))
    assert not is_workday(D(2026, 10, 2))


def test_a_year_is_read_in_one_query(django_assert_num_queries):
    cal = WorkCalendar()

    with django_assert_num_queries(2):
        assert not cal.is_workday(D(2026, 10, 1))
        assert not cal.is_workday(D(2027, 10, 1))
        assert cal.is_workday(D(2026, 10, 10))
        assert cal.is_workday(D(2027, 10, 8))


# --- the migration on a database that had a calendar before ---------------------------


def test_migration_renames_english_days_and_keeps_days_corrected_by_hand():
    WorkingCalendar.objects.all().delete()
    CalendarYear.objects.all().delete()
    WorkingCalendar.objects.bulk_create(
        [
            WorkingCalendar(
                date=D(2026, 10, 1),
                is_workday=False,
                name="National Day",
                source="chinesecalendar",
            ),
            WorkingCalendar(
                date=D(2026, 2, 14),
                is_workday=True,
                name="Spring Festival",
                source="chinesecalendar",
            ),
            WorkingCalendar(
                date=D(2026, 10, 7),
                is_workday=True,
                name="值班",
                source="",
            ),
        ]
    )

    seed_migration.seed(apps, None)

    names = dict(WorkingCalendar.objects.values_list("date", "name"))
    assert names[D(2026, 10, 1)] == "国庆节"
    assert names[D(2026, 2, 14)] == "春节调休上班"
    assert names[D(2026, 10, 2)] == "国庆节"  # seeded
    corrected = WorkingCalendar.objects.get(date=D(2026, 10, 7))
    assert (corrected.is_workday, corrected.name) == (True, "值班")
    assert CalendarYear.objects.get(year=2026).source == "chinesecalendar"


WHOLE_2027 = [
    D(2027, 1, 1),
    D(2027, 2, 5),
    D(2027, 2, 8),
    D(2027, 4, 5),
    D(2027, 6, 9),
    D(2027, 9, 15),
    D(2027, 10, 1),
]


def test_migration_records_a_year_imported_whole_from_a_csv_file():
    rows = [
        WorkingCalendar(date=day, is_workday=False, name="假", source="csv:2027.csv")
        for day in WHOLE_2027
    ] + [
        WorkingCalendar(
            date=D(2028, 1, 1), is_workday=False, name="元旦", source="csv:2028.csv"
        )
    ]
    WorkingCalendar.objects.bulk_create(rows)

    seed_migration.seed(apps, None)

    assert CalendarYear.objects.get(year=2027).source == "csv:2027.csv"
    assert not CalendarYear.objects.filter(year=2028).exists()
    assert missing_years([2027, 2028]) == [2028]
