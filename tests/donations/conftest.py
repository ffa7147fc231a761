import pytest


@pytest.fixture(autouse=True)
def donation_role_permissions(db):
    """The role groups hold the donations permissions, as the migration
    donations/0002_roles gives them (and tracking.roles will keep them), even if
    a later migration synced the groups without them."""
    from django.contrib.auth.models import Group, Permission

    from tracking import roles
    from tracking.donations import permissions

    for group_name, wanted in (
        (roles.CASE_OFFICERS, permissions.OFFICER),
        (roles.SUPERVISORS, permissions.SUPERVISOR),
    ):
        group = Group.objects.get(name=group_name)
        group.permissions.add(
            *Permission.objects.filter(
                content_type__app_label="donations",
                codename__in=[codename for _app, codename in wanted],
            )
        )
