"""Stories published before the case recorded its story's first publication get
that event now (at the page's first publication), the case its ``reported_at``,
and the rollups are computed again with them."""

from django.db import migrations


def backfill(apps, schema_editor):
    from tracking.statistics.rollups import rebuild_in_migration

    HotTrackingPage = apps.get_model("newsroom", "HotTrackingPage")
    CaseEvent = apps.get_model("tracking", "CaseEvent")
    recorded = set(
        CaseEvent.objects.filter(action="publish").values_list("case_id", flat=True)
    )
    CaseEvent.objects.bulk_create(
        CaseEvent(
            case_id=story.case_id,
            action="publish",
            public=False,
            created_at=story.first_published_at,
            department_id=story.case.department_id,
        )
        for story in HotTrackingPage.objects.filter(
            first_published_at__isnull=False
        ).select_related("case")
        if story.case_id not in recorded
    )
    Case = apps.get_model("tracking", "Case")
    for event in CaseEvent.objects.filter(action="publish").order_by("-created_at"):
        Case.objects.filter(pk=event.case_id).update(reported_at=event.created_at)
    rebuild_in_migration(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("newsroom", "0006_editor_writing_task"),
        ("tracking", "0018_case_reported_at"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
