"""Stored names in the install's language: the role groups, and holiday names.

The role groups were created under their English keys; from here on they are
stored under the key translated into ``settings.LANGUAGE_CODE`` ("话务员" in a
Chinese install), which is the name ``tracking.roles`` looks them up by. Holidays
stored with an English name (typed in the admin, or a CSV file that named them in
English, in whatever case) get the Chinese name, as every import gives them now.

Both directions run on fresh and old installs alike: backwards, the groups take
their English keys again (holiday names stay Chinese, which is right either way).
"""

import chinese_calendar
from django.db import migrations

# The names are written out here rather than imported from ``tracking.calendar``,
# so that this migration does what it did when it was written.
# chinesecalendar's own names, then the names the calendar stores (清明节, not 清明).
HOLIDAY_NAMES = {h.value.lower(): h.chinese for h in chinese_calendar.Holiday}
HOLIDAY_NAMES |= {
    "new year's day": "元旦",
    "spring festival": "春节",
    "tomb-sweeping day": "清明节",
    "labour day": "劳动节",
    "labor day": "劳动节",
    "dragon boat festival": "端午节",
    "mid-autumn festival": "中秋节",
    "national day": "国庆节",
    "anti-fascist 70th day": "抗战胜利70周年纪念日",
}
MAKE_UP_WORKDAY = "调休上班"


def _role_names():
    """(English key, stored name) of every role, the stored name as the code of
    this migration's time computes it."""
    from tracking.roles import ROLE_KEYS, group_name

    return [(key, group_name(key)) for key in ROLE_KEYS]


def _rename_groups(Group, pairs):
    for old, new in pairs:
        if old == new or Group.objects.filter(name=new).exists():
            continue
        Group.objects.filter(name=old).update(name=new)


def rename_groups(apps, schema_editor):
    _rename_groups(apps.get_model("auth", "Group"), _role_names())


def restore_groups(apps, schema_editor):
    pairs = [(new, key) for key, new in _role_names()]
    _rename_groups(apps.get_model("auth", "Group"), pairs)


def chinese_holiday_names(apps, schema_editor):
    WorkingCalendar = apps.get_model("tracking", "WorkingCalendar")
    for pk, name, workday in WorkingCalendar.objects.filter(
        name__regex=r"[A-Za-z]"
    ).values_list("pk", "name", "is_workday"):
        chinese = HOLIDAY_NAMES.get(" ".join(name.split()).lower())
        if chinese is not None:
            WorkingCalendar.objects.filter(pk=pk).update(
                name=chinese + MAKE_UP_WORKDAY if workday else chinese
            )


class Migration(migrations.Migration):
    dependencies = [("tracking", "0019_reminder_due_at")]

    operations = [
        migrations.RunPython(rename_groups, restore_groups),
        migrations.RunPython(chinese_holiday_names, migrations.RunPython.noop),
    ]
