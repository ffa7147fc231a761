"""Domain errors of the case workflow, each with a message fit for the user."""

from django.core.exceptions import PermissionDenied


class CaseError(Exception):
    """Base of every refusal a case service can give."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message

    def __str__(self):
        return str(self.message)


class TransitionRefused(CaseError):
    """The transition is not possible from the case's state or its conditions fail."""


class CaseConflict(CaseError):
    """Someone else changed the case first; reload and try again."""


class InvalidInput(CaseError):
    """A required reason, text or choice is missing or wrong."""


class CasePermissionDenied(CaseError, PermissionDenied):
    """The user may not do this to this case."""
