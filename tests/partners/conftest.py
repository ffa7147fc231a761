import pytest


@pytest.fixture(autouse=True)
def partner_role_permissions(db):
    """The role groups get the permissions of tracking.partners.permissions, as
    tracking.roles will give them (see the report to the lead)."""
    from django.contrib.auth.models import Group, Permission

    from tracking import roles
    from tracking.partners import permissions

    for group_name, wanted in (
        (roles.CASE_OFFICERS, permissions.OFFICER),
        (roles.SUPERVISORS, permissions.SUPERVISOR),
    ):
        group = Group.objects.get(name=group_name)
        for app_label, codename in wanted:
            group.permissions.add(
                Permission.objects.get(
                    content_type__app_label=app_label, codename=codename
                )
            )
