"""Store what the paper reported for cases escalated before the figure was kept.

Best effort: the deadline in force at the escalation is taken to be the current
``due_at`` when it passed before the escalation (a deadline extended or restarted
since then is lost; that is the mistake the stored figure prevents from now on).
The live working calendar computes the figure: the migration only reads it.
"""

from django.db import migrations


def backfill(apps, schema_editor):
    from tracking.calendar import working_days_overdue  # the arithmetic, not a model

    Case = apps.get_model("tracking", "Case")
    reported = Case.objects.filter(
        escalated_at__isnull=False,
        escalated_days_overdue__isnull=True,
        due_at__isnull=False,
    )
    for case in reported.only("pk", "due_at", "escalated_at").iterator():
        if case.due_at >= case.escalated_at:
            continue
        Case.objects.filter(pk=case.pk).update(
            escalated_due_at=case.due_at,
            escalated_days_overdue=working_days_overdue(case.due_at, case.escalated_at),
        )


class Migration(migrations.Migration):
    dependencies = [("tracking", "0012_seed_official_calendar")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
