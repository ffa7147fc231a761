"""Seed the official working calendar, so that a fresh install counts deadlines right.

Every year the installed ``chinesecalendar`` package knows is imported as a whole:
its days go into the table (a day already there is kept: it may have been corrected
by hand) and the year is recorded as official. Rows stored before names were kept in
Chinese get Chinese names. A year imported earlier from a CSV file is recorded as
official too when the file was whole by the import command's rule: it lists every
statutory holiday of that year that falls on a weekday.

The names and the rule are written out here rather than imported from
``tracking.calendar``, so that this migration does what it did when it was written.
"""

from collections import Counter

import chinese_calendar
from django.db import migrations

SOURCE = "chinesecalendar"
HOLIDAY_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "Mid-autumn Festival": "中秋节",
    "National Day": "国庆节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}
MAKE_UP_WORKDAY = "调休上班"


def chinese_name(name, workday):
    chinese = HOLIDAY_NAMES.get(name)
    if chinese is None:
        try:
            chinese = chinese_calendar.Holiday(name).chinese
        except ValueError:
            return name
    return chinese + MAKE_UP_WORKDAY if workday else chinese


def rename_english_days(WorkingCalendar):
    english = {h.value for h in chinese_calendar.Holiday} | set(HOLIDAY_NAMES)
    for name in english:
        for workday in (False, True):
            WorkingCalendar.objects.filter(name=name, is_workday=workday).update(
                name=chinese_name(name, workday)
            )


def seed_package_years(WorkingCalendar, CalendarYear):
    days = [(day, False, name) for day, name in chinese_calendar.holidays.items()]
    days += [(day, True, name) for day, name in chinese_calendar.workdays.items()]
    stored = set(WorkingCalendar.objects.values_list("date", flat=True))
    WorkingCalendar.objects.bulk_create(
        (
            WorkingCalendar(
                date=day,
                is_workday=workday,
                name=chinese_name(name or "", workday),
                source=SOURCE,
            )
            for day, workday, name in sorted(days)
            if day not in stored
        ),
        batch_size=500,
    )
    for year in sorted({day.year for day in chinese_calendar.holidays}):
        CalendarYear.objects.get_or_create(year=year, defaults={"source": SOURCE})


def record_whole_csv_years(WorkingCalendar, CalendarYear):
    # Heavy (about 0.3 s to import): only when the migration runs, not whenever the
    # migration graph is loaded.
    import holidays

    recorded = set(CalendarYear.objects.values_list("year", flat=True))
    by_year = {}
    for day, workday, source in WorkingCalendar.objects.filter(
        source__startswith="csv"
    ).values_list("date", "is_workday", "source"):
        if day.year not in recorded:
            by_year.setdefault(day.year, []).append((day, workday, source))
    for year, rows in sorted(by_year.items()):
        listed = {day for day, workday, _ in rows if not workday}
        statutory = holidays.China(years=year, observed=False)
        if all(
            day in listed for day in statutory if day.year == year and day.weekday() < 5
        ):
            sources = Counter(source for _, _, source in rows)
            CalendarYear.objects.create(year=year, source=sources.most_common(1)[0][0])


def seed(apps, schema_editor):
    WorkingCalendar = apps.get_model("tracking", "WorkingCalendar")
    CalendarYear = apps.get_model("tracking", "CalendarYear")
    rename_english_days(WorkingCalendar)
    seed_package_years(WorkingCalendar, CalendarYear)
    record_whole_csv_years(WorkingCalendar, CalendarYear)


class Migration(migrations.Migration):
    dependencies = [("tracking", "0011_structure_facts")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
