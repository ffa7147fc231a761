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


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    """Images (the visit days' photos, the demo's) are written under the test's
    own directory, never the install's media."""
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def column():
    """The 社区月月进 column, published, listing the visit days."""
    from newsroom.models import ColumnPage, HomePage

    page = ColumnPage(
        title="社区月月进",
        slug="community-visits",
        intro="<p>便民服务队、养生服务队走进社区。</p>",
        lists_community_visits=True,
    )
    HomePage.objects.get().add_child(instance=page)
    page.save_revision().publish()
    return ColumnPage.objects.get(pk=page.pk)
