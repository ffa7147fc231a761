"""Wagtail hooks of the newsroom's review workflow (loaded by wagtail_hooks).

A Hot Tracking story is reviewed in steps: the Editors write it and approve it
on to the Chief editors, whose approval publishes it. Wagtail says neither where
an approval sent the page ("Page … has been updated.", or nothing at all from the
workflow action URL) nor, in the page explorer, which step a page in moderation
waits at. The page views below say both, for every page type, reading the steps
from the workflow itself (their names are data, and translated in a migration).

They replace Wagtail's default page viewset: the same views with these two
additions, registered after Wagtail's own (``order``), so the page URLs, which
look the viewset up by page type, reach them.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from wagtail import hooks
from wagtail.admin import messages
from wagtail.admin.ui.tables.pages import PageStatusColumn
from wagtail.admin.views.pages.edit import EditView
from wagtail.admin.views.pages.listing import ExplorableIndexView
from wagtail.admin.views.pages.workflow import WorkflowActionView
from wagtail.admin.viewsets.pages import PageViewSet
from wagtail.models import Page, WorkflowState

APPROVE = "approve"


def _active_state(page) -> WorkflowState | None:
    """The page's workflow state in progress (or waiting for changes), read anew."""
    return (
        WorkflowState.objects.active()
        .for_instance(page)
        .select_related("current_task_state__task")
        .first()
    )


def _current_task_state_id(page) -> int | None:
    state = _active_state(page)
    if state is None or state.status != WorkflowState.STATUS_IN_PROGRESS:
        return None
    return state.current_task_state_id


def _reviewers(task) -> str:
    """The names of the groups that act on ``task`` (a group approval task)."""
    groups = getattr(task.specific, "groups", None)
    if groups is None:
        return ""
    separator = pgettext("between the names in a list", ", ")
    return separator.join(group.name for group in groups.order_by("name"))


def next_step_message(page, approved_task_state_id: int) -> str | None:
    """What an approval of task state ``approved_task_state_id`` did, when it
    passed the page on to a next step of its workflow (None otherwise): the step
    and who acts on it, e.g. "已提交主编审批（主编）"."""
    state = _active_state(page)
    if state is None or state.status != WorkflowState.STATUS_IN_PROGRESS:
        return None
    task_state = state.current_task_state
    if task_state is None or task_state.pk == approved_task_state_id:
        return None
    values = {
        "title": page.get_admin_display_title(),
        "task": task_state.task.name,
        "groups": _reviewers(task_state.task),
    }
    if values["groups"]:
        return (
            _("Page '%(title)s' has been submitted to %(task)s (%(groups)s).") % values
        )
    return _("Page '%(title)s' has been submitted to %(task)s.") % values


def final_approval_message(page) -> str:
    page = Page.objects.get(pk=page.pk)
    title = page.get_admin_display_title()
    if page.live and not page.has_unpublished_changes:
        return _("Page '%(title)s' has been approved and published.") % {"title": title}
    return _("Page '%(title)s' has been approved.") % {"title": title}


class StepWorkflowActionView(WorkflowActionView):
    """Wagtail's workflow action (the approve and request-changes buttons of the
    dashboard and the edit page's status panel), saying where an approval sent
    the page: Wagtail's own says nothing."""

    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        if self.action_name == APPROVE and self._task_state_finished():
            message = next_step_message(self.object, self.task_state.pk)
            messages.success(request, message or final_approval_message(self.object))
        return response

    def _task_state_finished(self) -> bool:
        # A form that did not validate leaves the task where it was.
        self.task_state.refresh_from_db(fields=["status"])
        return self.task_state.status != self.task_state.STATUS_IN_PROGRESS


class StepEditView(EditView):
    """Wagtail's edit view, whose approve button (an action of the edit form)
    says where the approval sent the page instead of "has been updated"."""

    def perform_workflow_action(self):
        self.approved_task_state_id = (
            _current_task_state_id(self.page)
            if self.workflow_action == APPROVE
            else None
        )
        return super().perform_workflow_action()

    def add_save_confirmation_message(self):
        approved = getattr(self, "approved_task_state_id", None)
        message = approved and (
            next_step_message(self.page, approved) or final_approval_message(self.page)
        )
        if message:
            messages.success(
                self.request, message, buttons=[self.get_edit_message_button()]
            )
        else:
            super().add_save_confirmation_message()


def current_step(page) -> str:
    """The step a page in moderation waits at, from what the listing prefetched
    (``prefetch_workflow_states``: no query per page); "" for a page in none."""
    state = page.current_workflow_state
    if state is None or state.current_task_state is None:
        return ""
    task = state.current_task_state.task.name
    if state.status == WorkflowState.STATUS_NEEDS_CHANGES:
        return _("Changes requested at %(task)s") % {"task": task}
    return task


class WorkflowStepStatusColumn(PageStatusColumn):
    """The status column of a page listing, with the step a page in moderation
    waits at under Wagtail's status tag."""

    cell_template_name = "newsroom/admin/story/page_status_cell.html"

    def get_cell_context_data(self, instance, parent_context):
        context = super().get_cell_context_data(instance, parent_context)
        context["step"] = current_step(instance)
        return context


def _with_step_column(columns):
    return [
        WorkflowStepStatusColumn(
            column.name,
            label=column.label,
            classname=column.classname,
            sort_key=column.sort_key,
            width=column.width,
        )
        if isinstance(column, PageStatusColumn)
        else column
        for column in columns
    ]


class StepExplorableIndexView(ExplorableIndexView):
    base_columns = _with_step_column(ExplorableIndexView.base_columns)


class ReviewStepsPageViewSet(PageViewSet):
    """Wagtail's page views, saying a page's review step (see the module)."""

    name = "newsroom_pages"
    model = Page
    index_view_class = StepExplorableIndexView
    edit_view_class = StepEditView
    workflow_action_view_class = StepWorkflowActionView


# After Wagtail's base page viewset (registered with order -1): the registry keeps
# the last viewset registered for a page type.
@hooks.register("register_admin_viewset", order=10)
def register_review_steps_page_viewset():
    return ReviewStepsPageViewSet()
