"""Beat's schedule, kept in the database so administrators can change it."""

import json

from django.db import migrations

SCHEDULE = [
    ("Overdue scan", "tracking.tasks.scan_overdue", 5),
    ("Publish scheduled pages", "newsroom.tasks.publish_scheduled", 1),
]


def create_schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, minutes in SCHEDULE:
        every, _ = IntervalSchedule.objects.get_or_create(every=minutes, period="minutes")
        PeriodicTask.objects.get_or_create(
            name=name,
            defaults={"task": task, "interval": every, "args": json.dumps([])},
        )


class Migration(migrations.Migration):
    dependencies = [
        ("tracking", "0006_case_notices"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedule, migrations.RunPython.noop)]
