"""The Hot Tracking column, and the review workflows: editors submit, chief editors
approve (which publishes). Editors hold no publish permission, so review is the
only way their pages go live."""

from django.db import migrations

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
STEPLEN = 4


def _next_child_path(Page, parent):
    last = Page.objects.filter(path__startswith=parent.path, depth=parent.depth + 1)
    last = last.order_by("-path").values_list("path", flat=True).first()
    number = 0
    if last:
        for char in last[-STEPLEN:]:
            number = number * len(ALPHABET) + ALPHABET.index(char)
    number += 1
    step = ""
    for _ in range(STEPLEN):
        number, digit = divmod(number, len(ALPHABET))
        step = ALPHABET[digit] + step
    return parent.path + step


def create_column_and_workflows(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Page = apps.get_model("wagtailcore", "Page")
    Group = apps.get_model("auth", "Group")
    Workflow = apps.get_model("wagtailcore", "Workflow")
    WorkflowTask = apps.get_model("wagtailcore", "WorkflowTask")
    WorkflowPage = apps.get_model("wagtailcore", "WorkflowPage")
    GroupApprovalTask = apps.get_model("wagtailcore", "GroupApprovalTask")
    HomePage = apps.get_model("newsroom", "HomePage")
    ColumnPage = apps.get_model("newsroom", "ColumnPage")

    home = HomePage.objects.order_by("pk").first()
    if home is None:
        return
    column = ColumnPage.objects.filter(is_hot_tracking=True).first()
    if column is None:
        content_type, _ = ContentType.objects.get_or_create(
            app_label="newsroom", model="columnpage"
        )
        home_page = Page.objects.get(pk=home.pk)
        column = ColumnPage.objects.create(
            title="热点追踪",
            draft_title="热点追踪",
            slug="hot-tracking",
            seo_title="热点追踪 Hot Tracking",
            intro="<p>效能投诉久拖不决？本栏目全程追踪，直到问题解决。</p>",
            is_hot_tracking=True,
            content_type=content_type,
            path=_next_child_path(Page, home_page),
            depth=home_page.depth + 1,
            numchild=0,
            url_path=f"{home_page.url_path}hot-tracking/",
            live=True,
            locale_id=home_page.locale_id,
        )
        home_page.numchild = Page.objects.filter(
            path__startswith=home_page.path, depth=home_page.depth + 1
        ).count()
        home_page.save(update_fields=["numchild"])

    task_type, _ = ContentType.objects.get_or_create(
        app_label="wagtailcore", model="groupapprovaltask"
    )
    task, _ = GroupApprovalTask.objects.get_or_create(
        name="Chief editor approval",
        defaults={"content_type": task_type, "active": True},
    )
    task.groups.set([Group.objects.get(name="Chief editors")])

    for name, page_id in (
        ("Hot Tracking review", column.pk),
        ("Editorial review", home.pk),
    ):
        workflow, _ = Workflow.objects.get_or_create(name=name, defaults={"active": True})
        WorkflowTask.objects.get_or_create(
            workflow=workflow, task_id=task.pk, defaults={"sort_order": 0}
        )
        WorkflowPage.objects.update_or_create(
            page_id=page_id, defaults={"workflow": workflow}
        )


class Migration(migrations.Migration):
    dependencies = [
        ("newsroom", "0003_pages"),
        ("wagtailcore", "0098_apitoken"),
    ]

    operations = [
        migrations.RunPython(create_column_and_workflows, migrations.RunPython.noop)
    ]
