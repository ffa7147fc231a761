from django.db import migrations


def grant(apps, schema_editor):
    """Give case officers and supervisors the donations permissions, adding to
    what their groups have (tracking.roles lists them for later syncs). The groups
    go by their English keys until tracking 0020 renames them, by their stored
    names after."""
    from django.apps import apps as global_apps
    from django.contrib.auth.management import create_permissions

    from tracking import roles
    from tracking.donations import permissions

    create_permissions(global_apps.get_app_config("donations"), verbosity=0, apps=apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for key, wanted in (
        (roles.CASE_OFFICERS_KEY, permissions.OFFICER),
        (roles.SUPERVISORS_KEY, permissions.SUPERVISOR),
    ):
        group = Group.objects.filter(name__in=[key, roles.group_name(key)]).first()
        if group is None:
            continue  # tracking 0002 makes every role group; none here: nothing to do
        group.permissions.add(
            *Permission.objects.filter(
                content_type__app_label="donations",
                codename__in=[codename for _app, codename in wanted],
            )
        )


class Migration(migrations.Migration):
    dependencies = [
        ("donations", "0001_initial"),
        ("tracking", "0002_roles"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
