"""Hot Tracking review in two steps: the editors write, then the chief editors approve.

A story enters review the moment the case is escalated. Wagtail locks a page on a
group approval task to everybody outside that group, so the first task belongs to
the Editors: they write the story and approve it on to the Chief editors, whose
approval publishes it.
"""

from django.db import migrations


def add_editor_task(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Group = apps.get_model("auth", "Group")
    Workflow = apps.get_model("wagtailcore", "Workflow")
    WorkflowTask = apps.get_model("wagtailcore", "WorkflowTask")
    GroupApprovalTask = apps.get_model("wagtailcore", "GroupApprovalTask")

    workflow = Workflow.objects.filter(name="Hot Tracking review").first()
    if workflow is None:
        return
    task_type, _ = ContentType.objects.get_or_create(
        app_label="wagtailcore", model="groupapprovaltask"
    )
    writing, _ = GroupApprovalTask.objects.get_or_create(
        name="Editors write the story",
        defaults={"content_type": task_type, "active": True},
    )
    writing.groups.set([Group.objects.get(name="Editors")])
    # Put the writing task first; the chief editors' approval follows it.
    for link in WorkflowTask.objects.filter(workflow=workflow).exclude(
        task_id=writing.pk
    ):
        link.sort_order += 1
        link.save(update_fields=["sort_order"])
    WorkflowTask.objects.get_or_create(
        workflow=workflow, task_id=writing.pk, defaults={"sort_order": 0}
    )


class Migration(migrations.Migration):
    dependencies = [("newsroom", "0005_search_terms")]

    operations = [migrations.RunPython(add_editor_task, migrations.RunPython.noop)]
