"""Placeholder: stored names in the install's language."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("tracking", "0019_reminder_due_at")]

    operations = []
