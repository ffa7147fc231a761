"""Workflow and task names in the install's language.

0004 and 0006 created the review workflows and their tasks under English names,
and Wagtail's own migrations the "Moderators" group, its "Moderators approval"
workflow and task, and the root page and collection called "Root". All of these
are names the admin shows as they are stored, so they are renamed here to the
English name translated into ``settings.LANGUAGE_CODE`` (the project's
``locale/`` has them). Renaming by the English name makes this run the same on a
fresh install and an old one; a name already changed by hand is left alone.
Backwards, the English names come back.
"""

from django.conf import settings
from django.db import migrations
from django.utils import translation
from django.utils.translation import gettext_noop

WORKFLOWS = [
    gettext_noop("Hot Tracking review"),
    gettext_noop("Editorial review"),
    gettext_noop("Moderators approval"),
]
TASKS = [
    gettext_noop("Editors write the story"),
    gettext_noop("Chief editor approval"),
    gettext_noop("Moderators approval"),
]
# Wagtail's group for its default workflow (the roles' groups are renamed by
# tracking/0020).
GROUPS = [gettext_noop("Moderators")]
ROOT = gettext_noop("Root")


def _translated(names):
    with translation.override(settings.LANGUAGE_CODE):
        return [(name, translation.gettext(name)) for name in names]


def _rename(queryset, pairs, *fields):
    for old, new in pairs:
        if old == new:
            continue
        for field in fields:
            queryset.filter(**{field: old}).update(**{field: new})


def _apply(apps, forwards):
    def pairs(names):
        translated = _translated(names)
        return translated if forwards else [(new, old) for old, new in translated]

    Workflow = apps.get_model("wagtailcore", "Workflow")
    Task = apps.get_model("wagtailcore", "Task")
    Group = apps.get_model("auth", "Group")
    Page = apps.get_model("wagtailcore", "Page")
    Collection = apps.get_model("wagtailcore", "Collection")
    _rename(Workflow.objects.all(), pairs(WORKFLOWS), "name")
    _rename(Task.objects.all(), pairs(TASKS), "name")
    for old, new in pairs(GROUPS):
        if old != new and not Group.objects.filter(name=new).exists():
            Group.objects.filter(name=old).update(name=new)
    _rename(Page.objects.filter(depth=1), pairs([ROOT]), "title", "draft_title")
    _rename(Collection.objects.filter(depth=1), pairs([ROOT]), "name")


def rename(apps, schema_editor):
    _apply(apps, forwards=True)


def restore(apps, schema_editor):
    _apply(apps, forwards=False)


class Migration(migrations.Migration):
    dependencies = [("newsroom", "0009_story_box_block")]

    operations = [migrations.RunPython(rename, restore)]
