"""Placeholder: the reminder's due time (filled in by the case-page work)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("tracking", "0018_case_reported_at")]

    operations = []
