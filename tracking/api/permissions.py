"""Who may use the case API at all; what they may do to a case is the services'."""

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission


class HasCaseRole(BasePermission):
    """Staff with a case role (officers, supervisors, liaisons): ``view_case``.

    Anyone else signed in (an editor) is refused with 403 rather than shown an
    empty list, so that a missing role is seen as one. Which cases a user sees is
    ``Case.objects.visible_to``; a liaison's list is their department's.
    """

    message = _("Your account has no access to cases.")

    def has_permission(self, request, view):
        return request.user.has_perm("tracking.view_case")
