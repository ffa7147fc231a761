"""A column may list the community visit days (社区月月进); the column with the
slug "community-visits", if there is one, does.

The flag is set on the page and in its latest revision, which the editors' form
starts from: publishing that revision again keeps it.
"""

from django.db import migrations, models

SLUG = "community-visits"


def _set(apps, value: bool):
    ColumnPage = apps.get_model("newsroom", "ColumnPage")
    Revision = apps.get_model("wagtailcore", "Revision")
    for column in ColumnPage.objects.filter(slug=SLUG):
        ColumnPage.objects.filter(pk=column.pk).update(lists_community_visits=value)
        if column.latest_revision_id:
            revision = Revision.objects.filter(pk=column.latest_revision_id).first()
            if revision is not None and isinstance(revision.content, dict):
                if value:
                    revision.content["lists_community_visits"] = True
                else:
                    revision.content.pop("lists_community_visits", None)
                revision.save(update_fields=["content"])


def forwards(apps, schema_editor):
    _set(apps, True)


def backwards(apps, schema_editor):
    _set(apps, False)


class Migration(migrations.Migration):
    dependencies = [("newsroom", "0010_chinese_names")]

    operations = [
        migrations.AddField(
            model_name="columnpage",
            name="lists_community_visits",
            field=models.BooleanField(
                default=False,
                help_text=(
                    "Show the upcoming and past community visit days (社区月月进) "
                    "above the column's articles."
                ),
                verbose_name="lists community visit days",
            ),
        ),
        migrations.RunPython(forwards, backwards),
    ]
