"""The back office of the case workflow, in the Wagtail admin, one module per
screen: the case listing, registering a case, the case page and its actions, its
photos, the call log, reference data (departments, categories, the working
calendar), dashboard panels, the statistics dashboard.
"""

from .calls import CallCreateView, CallerHistoryView
from .case import (
    CASE_URL_NAMESPACE,
    CaseActionView,
    CaseCallbackView,
    CaseDetailView,
    CaseExtendDeadlineView,
    CaseGrantExtensionView,
    CaseRefuseExtensionView,
    CaseRequestExtensionView,
    CaseStoryView,
    CaseTransitionView,
    case_actions,
    case_url,
)
from .dashboard import MissingCalendarPanel, missing_calendar_panel
from .listing import CaseIndexView
from .photos import CasePhotoView
from .reference import (
    ProtectedDeleteView,
    WorkingCalendarIndexView,
    missing_calendar_message,
)
from .registration import CaseRegisterView
from .statistics import (
    STATISTICS_URL_NAMESPACE,
    StatisticsExportView,
    StatisticsView,
    may_see_statistics,
)

__all__ = [
    "CASE_URL_NAMESPACE",
    "STATISTICS_URL_NAMESPACE",
    "CallCreateView",
    "CallerHistoryView",
    "CaseActionView",
    "CaseCallbackView",
    "CaseDetailView",
    "CaseExtendDeadlineView",
    "CaseGrantExtensionView",
    "CaseRefuseExtensionView",
    "CaseRequestExtensionView",
    "CaseIndexView",
    "CasePhotoView",
    "CaseRegisterView",
    "CaseStoryView",
    "CaseTransitionView",
    "MissingCalendarPanel",
    "ProtectedDeleteView",
    "StatisticsExportView",
    "StatisticsView",
    "WorkingCalendarIndexView",
    "case_actions",
    "case_url",
    "may_see_statistics",
    "missing_calendar_message",
    "missing_calendar_panel",
]
