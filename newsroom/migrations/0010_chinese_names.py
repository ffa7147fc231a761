"""Placeholder: workflow and task names in the install's language."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("newsroom", "0009_story_box_block")]

    operations = []
