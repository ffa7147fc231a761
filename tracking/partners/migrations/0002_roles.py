from django.db import migrations


def sync_roles(apps, schema_editor):
    from tracking.roles import sync_role_groups

    sync_role_groups(apps, strict=False)


class Migration(migrations.Migration):
    dependencies = [("partners", "0001_initial")]

    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
