"""/api/v1/: the officer and department API, the public statistics and the
OpenAPI schema."""

from django.urls import path, re_path

from .. import actions
from . import views

app_name = views.URL_NAMESPACE

# Case ids are matched loosely and checked by the views, so that a malformed id
# gets the API's JSON 404 rather than the site's HTML page.
CASE = "cases/<str:id>/"

urlpatterns = [
    path("schema/", views.SchemaView.as_view(), name="schema"),
    path("cases/", views.CaseListView.as_view(), name="case-list"),
    path(CASE, views.CaseDetailView.as_view(), name="case-detail"),
    path(
        f"{CASE}transitions/",
        views.CaseActionsView.as_view(),
        name="case-transitions",
    ),
    *(
        path(
            f"{CASE}transitions/{action.name}/",
            views.transition_view(action.name),
            name=f"case-transition-{action.name}",
        )
        for action in actions.transitions()
    ),
    path(
        f"{CASE}transitions/<str:name>/",
        views.UnknownTransitionView.as_view(),
        name="case-transition-unknown",
    ),
    path(f"{CASE}responses/", views.CaseResponsesView.as_view(), name="case-responses"),
    path(f"{CASE}callbacks/", views.CaseCallbacksView.as_view(), name="case-callbacks"),
    path(
        f"{CASE}extend-deadline/",
        views.CaseExtendDeadlineView.as_view(),
        name="case-extend-deadline",
    ),
    path("departments/", views.DepartmentListView.as_view(), name="department-list"),
    path("categories/", views.CategoryListView.as_view(), name="category-list"),
    path("stats/", views.StatsView.as_view(), name="stats"),
    re_path(r"^", views.not_found),
]
