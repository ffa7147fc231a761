"""Staff roles as Django groups, and what each may do (see DESIGN.md)."""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions

CASE_OFFICERS = "Case officers"
SUPERVISORS = "Supervisors"
DEPARTMENT_LIAISONS = "Department liaisons"
EDITORS = "Editors"
CHIEF_EDITORS = "Chief editors"

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
]

_LIAISON = [
    ADMIN_ACCESS,
    ("tracking", "view_case"),
    ("tracking", "acknowledge_case"),
    ("tracking", "return_case"),
    ("tracking", "reply_case"),
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
]

ROLE_PERMISSIONS = {
    CASE_OFFICERS: _OFFICER,
    SUPERVISORS: _SUPERVISOR,
    DEPARTMENT_LIAISONS: _LIAISON,
    EDITORS: _EDITOR,
    CHIEF_EDITORS: _EDITOR,
}


def sync_role_groups(apps, *, strict: bool = True) -> None:
    """Create the role groups and give each exactly its permissions.

    Takes an app registry so that it runs in a data migration as well as at
    run time; missing permissions are created first (they are normally created
    only after all migrations). Migrations pass ``strict=False``: permissions of
    models that a later migration creates are skipped, and that migration syncs
    the roles again.
    """
    for app_label in ("tracking", "wagtailadmin", "wagtailimages", "wagtaildocs"):
        create_permissions(
            global_apps.get_app_config(app_label), verbosity=0, apps=apps
        )
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, wanted in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
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
