"""Warnings and reminders name the deadline they are about; dispatches carry an
internal note for the department.

Events written before this get the deadline from the notice recorded with them
(one notice per case, kind and deadline, written in the same transaction, so the
n-th event of a kind on a case goes with the n-th notice, oldest first).
"""

from django.db import migrations, models

NOTICE_ACTIONS = ("warning", "reminder", "acknowledge_warning")


def backfill_due_at(apps, schema_editor):
    CaseEvent = apps.get_model("tracking", "CaseEvent")
    CaseNotice = apps.get_model("tracking", "CaseNotice")
    notices: dict[tuple[int, str], list] = {}
    for notice in CaseNotice.objects.order_by("case_id", "kind", "due_at", "pk"):
        notices.setdefault((notice.case_id, notice.kind), []).append(notice.due_at)
    events = CaseEvent.objects.filter(
        action__in=NOTICE_ACTIONS, due_at__isnull=True
    ).order_by("case_id", "action", "created_at", "pk")
    seen: dict[tuple[int, str], int] = {}
    for event in events.iterator():
        key = (event.case_id, event.action)
        index = seen.get(key, 0)
        seen[key] = index + 1
        due = notices.get(key, [])
        if index < len(due):
            # Events are append-only for the application; a migration may fill in
            # a fact that was always true.
            CaseEvent.objects.filter(pk=event.pk).update(due_at=due[index])


class Migration(migrations.Migration):
    dependencies = [("tracking", "0018_case_reported_at")]

    operations = [
        migrations.AddField(
            model_name="caseevent",
            name="due_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="was due"),
        ),
        migrations.AddField(
            model_name="caseevent",
            name="staff_note",
            field=models.TextField(blank=True, verbose_name="internal note"),
        ),
        migrations.RunPython(backfill_due_at, migrations.RunPython.noop),
    ]
