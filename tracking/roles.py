"""Staff roles as Django groups, and what each may do (see DESIGN.md).

A role has an English key (a msgid) and its group is stored under that key in the
install's language (``settings.LANGUAGE_CODE``): "话务员" in a Chinese install. The
constants below are that stored name, evaluated when used, never in the language of
the request, so ``Group.objects.get(name=roles.EDITORS)`` finds the group whoever
asks. Existing installs were renamed by ``tracking/0020_chinese_names``.
"""

from django.apps import apps as global_apps
from django.conf import settings
from django.contrib.auth.management import create_permissions
from django.db import connection
from django.utils import translation
from django.utils.functional import lazy
from django.utils.translation import gettext_noop

from .donations import permissions as donation_permissions
from .partners import permissions as partner_permissions

# The English keys, in the order the roles are listed.
CASE_OFFICERS_KEY = gettext_noop("Case officers")
SUPERVISORS_KEY = gettext_noop("Supervisors")
DEPARTMENT_LIAISONS_KEY = gettext_noop("Department liaisons")
EDITORS_KEY = gettext_noop("Editors")
CHIEF_EDITORS_KEY = gettext_noop("Chief editors")
ROLE_KEYS = (
    CASE_OFFICERS_KEY,
    SUPERVISORS_KEY,
    DEPARTMENT_LIAISONS_KEY,
    EDITORS_KEY,
    CHIEF_EDITORS_KEY,
)

# The migration after which the groups carry their stored names; the migrations
# before it (and Wagtail's, and newsroom's 0004 and 0006) know them by their keys.
RENAMED_BY = ("tracking", "0020_chinese_names")


def group_name(key: str) -> str:
    """The name the group of the role ``key`` is stored under: the key in the
    install's language, whatever language is active."""
    with translation.override(settings.LANGUAGE_CODE):
        return translation.gettext(key)


_group_name = lazy(group_name, str)

CASE_OFFICERS = _group_name(CASE_OFFICERS_KEY)
SUPERVISORS = _group_name(SUPERVISORS_KEY)
DEPARTMENT_LIAISONS = _group_name(DEPARTMENT_LIAISONS_KEY)
EDITORS = _group_name(EDITORS_KEY)
CHIEF_EDITORS = _group_name(CHIEF_EDITORS_KEY)

ADMIN_ACCESS = ("wagtailadmin", "access_admin")

_OFFICER = [
    ADMIN_ACCESS,
    ("tracking", "view_case"),
    ("tracking", "add_case"),
    ("tracking", "view_all_cases"),
    ("tracking", "accept_case"),
    ("tracking", "reject_case"),
    ("tracking", "answer_case"),
    ("tracking", "dispatch_case"),
    ("tracking", "reply_case"),
    ("tracking", "close_case"),
    ("tracking", "reopen_case"),
    ("tracking", "withdraw_case"),
    ("tracking", "merge_case"),
    ("tracking", "record_callback"),
    ("tracking", "view_call"),
    ("tracking", "add_call"),
    ("tracking", "change_call"),
    ("tracking", "view_department"),
    ("tracking", "view_category"),
    ("tracking", "view_workingcalendar"),
    *partner_permissions.OFFICER,
    *donation_permissions.OFFICER,
]

_CENSOR_RULES = [
    ("tracking", "view_censorrule"),
    ("tracking", "add_censorrule"),
    ("tracking", "change_censorrule"),
    ("tracking", "delete_censorrule"),
]

_SUPERVISOR = [
    *_OFFICER,
    *_CENSOR_RULES,
    ("tracking", "escalate_case"),
    ("tracking", "extend_deadline"),
    ("tracking", "add_department"),
    ("tracking", "change_department"),
    ("tracking", "add_category"),
    ("tracking", "change_category"),
    ("tracking", "add_workingcalendar"),
    ("tracking", "change_workingcalendar"),
    ("tracking", "delete_workingcalendar"),
    # Open311 clients: issue and revoke their keys.
    ("tracking", "view_apiclient"),
    ("tracking", "add_apiclient"),
    ("tracking", "change_apiclient"),
    *partner_permissions.SUPERVISOR,
    *donation_permissions.SUPERVISOR,
]

_LIAISON = [
    ADMIN_ACCESS,
    ("tracking", "view_case"),
    ("tracking", "acknowledge_case"),
    ("tracking", "return_case"),
    ("tracking", "reply_case"),
    ("tracking", "request_extension"),
]

_EDITOR = [
    ADMIN_ACCESS,
    ("wagtailimages", "add_image"),
    ("wagtailimages", "change_image"),
    ("wagtailimages", "choose_image"),
    ("wagtaildocs", "add_document"),
    ("wagtaildocs", "change_document"),
    ("wagtaildocs", "choose_document"),
    *_CENSOR_RULES,
    *partner_permissions.EDITOR,
]

# By role key.
ROLE_PERMISSIONS = {
    CASE_OFFICERS_KEY: _OFFICER,
    SUPERVISORS_KEY: _SUPERVISOR,
    DEPARTMENT_LIAISONS_KEY: _LIAISON,
    EDITORS_KEY: _EDITOR,
    CHIEF_EDITORS_KEY: _EDITOR,
}


def _stored_names_apply(apps) -> bool:
    """Whether groups go by their stored names in ``apps``: always at run time; in
    a migration only once the renaming migration has run."""
    if apps is global_apps:
        return True
    from django.db.migrations.recorder import MigrationRecorder

    app, name = RENAMED_BY
    recorder = MigrationRecorder(connection)
    return (
        recorder.has_table()
        and recorder.migration_qs.filter(app=app, name=name).exists()
    )


def sync_role_groups(apps, *, strict: bool = True) -> None:
    """Create the role groups and give each exactly its permissions.

    Takes an app registry so that it runs in a data migration as well as at
    run time; missing permissions are created first (they are normally created
    only after all migrations). Migrations pass ``strict=False``: permissions of
    models that a later migration creates are skipped, and that migration syncs
    the roles again. A migration before the renaming one makes the groups under
    their English keys, as the migrations of that time expect.
    """
    for app_label in (
        "tracking",
        "partners",
        "donations",
        "wagtailadmin",
        "wagtailimages",
        "wagtaildocs",
    ):
        create_permissions(
            global_apps.get_app_config(app_label), verbosity=0, apps=apps
        )
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    stored = _stored_names_apply(apps)
    for key, wanted in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=group_name(key) if stored else key)
        perms = []
        for app_label, codename in wanted:
            perm = Permission.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            if perm is None:
                if strict:
                    raise LookupError(f"permission {app_label}.{codename} is missing")
                continue  # a model of a later migration; that migration syncs again
            perms.append(perm)
        group.permissions.set(perms)
