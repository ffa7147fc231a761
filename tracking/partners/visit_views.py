"""The back-office screens of home visits (入户回访) and of the follow-up work
they give partners: draw a campaign, its page with its figures and visits, one
visit (plan, record, follow-up work), and a follow-up's page (mark it done).

Thin views: bind the form, call the service, turn its refusal into a message.
"""

from __future__ import annotations

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView
from wagtail.admin import messages
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.views.generic.permissions import PermissionCheckedMixin
from wagtail.permission_policies import ModelPermissionPolicy

from ..calendar import local_zone
from ..exceptions import CaseError, CasePermissionDenied
from . import forms, services
from .models import (
    HomeVisit,
    HomeVisitSample,
    PartnerFollowUp,
    VisitOutcome,
    partner_id_of,
)
from .views import StepActionsMixin, _forbidden

SAMPLES_URL_NAMESPACE = "partners_home_visits"
SUGGESTIONS_URL_NAMESPACE = "partners_visit_suggestions"
FOLLOW_UPS_URL_NAMESPACE = "partners_follow_ups"


def sample_url(sample: HomeVisitSample | int) -> str:
    pk = sample.pk if isinstance(sample, HomeVisitSample) else sample
    return reverse(f"{SAMPLES_URL_NAMESPACE}:detail", args=(pk,))


def visit_url(visit: HomeVisit | int) -> str:
    pk = visit.pk if isinstance(visit, HomeVisit) else visit
    return reverse(f"{SAMPLES_URL_NAMESPACE}:visit", args=(pk,))


def follow_up_url(follow_up: PartnerFollowUp | int) -> str:
    pk = follow_up.pk if isinstance(follow_up, PartnerFollowUp) else follow_up
    return reverse(f"{FOLLOW_UPS_URL_NAMESPACE}:detail", args=(pk,))


def samples_index_url() -> str:
    return reverse(f"{SAMPLES_URL_NAMESPACE}:index")


def follow_ups_visible_to(user):
    """A partner account's own follow-up work; all of it for the supervisors."""
    partner_id = partner_id_of(user)
    if partner_id is not None:
        return PartnerFollowUp.objects.filter(partner_id=partner_id)
    if not user.has_perm("partners.view_partnerfollowup"):
        return PartnerFollowUp.objects.none()
    return PartnerFollowUp.objects.all()


def share_text(part: int, whole: int) -> str:
    if not whole:
        return "–"
    return _("%(share)s%% (%(part)s of %(whole)s)") % {
        "share": round(100 * part / whole),
        "part": part,
        "whole": whole,
    }


def satisfied_text(sample) -> str:
    """The satisfied share of the visits done, with the campaign's size."""
    return _("%(share)s (sample of %(size)s)") % {
        "share": share_text(sample.satisfied_count, sample.done_count),
        "size": sample.visits_count,
    }


def verdict_text(visit) -> str:
    if visit.satisfied is None:
        return "–"
    return _("Satisfied") if visit.satisfied else _("Not satisfied")


class _AdminPage(PermissionCheckedMixin, WagtailAdminTemplateMixin, TemplateView):
    header_icon = "home"

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": samples_index_url(), "label": _("Home visits")},
            {"url": "", "label": self.get_page_subtitle() or self.page_title},
        ]


class SampleDrawView(_AdminPage):
    """Draw a home-visit campaign (supervisors)."""

    permission_policy = ModelPermissionPolicy(HomeVisitSample)
    permission_required = "add"
    template_name = "partners/sample_draw.html"
    page_title = gettext_lazy("Draw home visits")

    def get(self, request, *args, **kwargs):
        today = timezone.localdate()
        form = forms.SampleDrawForm(
            initial={
                "period_start": today.replace(day=1),
                "period_end": today,
                "recent_days": services.recent_visit_days(),
            }
        )
        return self.render_to_response(self.get_context_data(form=form))

    def post(self, request, *args, **kwargs):
        form = forms.SampleDrawForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            seed = data["seed"] if data["seed"] is not None else services.new_seed()
            try:
                sample = services.home_visit_sample_draw(
                    period_start=data["period_start"],
                    period_end=data["period_end"],
                    size=data["size"],
                    seed=seed,
                    recent_days=data["recent_days"],
                    user=request.user,
                )
            except CasePermissionDenied as exc:
                return _forbidden(request, str(exc), samples_index_url())
            except CaseError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request,
                    _("%(count)s households were drawn with seed %(seed)s.")
                    % {"count": sample.visits.count(), "seed": sample.seed},
                )
                return redirect(sample_url(sample))
        return self.render_to_response(self.get_context_data(form=form), status=400)


class SampleDetailView(_AdminPage):
    """A campaign: its draw (period, seed, exclusion), its figures and its
    visits, in a fixed number of queries whatever its size."""

    permission_policy = ModelPermissionPolicy(HomeVisitSample)
    permission_required = "view"
    template_name = "partners/sample_detail.html"
    page_title = gettext_lazy("Home visit campaign")

    @cached_property
    def sample(self):
        # Looked up after the permission check: no one else learns what exists.
        return get_object_or_404(
            HomeVisitSample.objects.with_figures().select_related("drawn_by"),
            pk=self.kwargs["pk"],
        )

    def get_page_subtitle(self):
        return str(self.sample)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        sample = self.sample
        visits = list(
            sample.visits.select_related("citizen", "order__case", "order__partner")
            .prefetch_related(
                Prefetch("follow_ups", queryset=PartnerFollowUp.objects.order_by("pk"))
            )
            .order_by("position")
        )
        context.update(
            sample=sample,
            visits=[(visit, visit_url(visit), verdict_text(visit)) for visit in visits],
            done_share=share_text(sample.done_count, sample.visits_count),
            satisfied=satisfied_text(sample),
        )
        return context


class VisitView(StepActionsMixin, _AdminPage):
    """One household of a campaign: plan the visit, record it, and turn its
    suggestions into follow-up work for the partner."""

    permission_policy = ModelPermissionPolicy(HomeVisit)
    permission_required = "change"
    template_name = "partners/visit_detail.html"
    page_title = gettext_lazy("Home visit")

    ACTIONS = ("plan", "record", "follow_up")
    unknown_action_message = gettext_lazy("Choose what to do with the visit.")

    @cached_property
    def visit(self):
        return get_object_or_404(
            HomeVisit.objects.select_related(
                "sample", "citizen", "order__case", "order__partner", "recorded_by"
            ),
            pk=self.kwargs["pk"],
        )

    def get_page_subtitle(self):
        return f"{self.visit.order.case.reference} · {self.visit.order.partner}"

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": samples_index_url(), "label": _("Home visits")},
            {"url": sample_url(self.visit.sample_id), "label": str(self.visit.sample)},
            {"url": "", "label": self.get_page_subtitle()},
        ]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        visit = self.visit
        planned = (
            visit.planned_at.astimezone(local_zone()) if visit.planned_at else None
        )
        context.setdefault(
            "plan_form",
            forms.VisitPlanForm(
                initial={
                    "day": planned.date() if planned else None,
                    "time": planned.time() if planned else None,
                    "invite_partner": visit.invite_partner,
                }
            ),
        )
        context.setdefault("record_form", forms.VisitRecordForm())
        context.setdefault(
            "follow_up_form", forms.FollowUpForm(initial={"task": visit.suggestions})
        )
        context.update(
            visit=visit,
            verdict=verdict_text(visit),
            is_done=visit.outcome == VisitOutcome.DONE,
            follow_ups=[
                (follow_up, follow_up_url(follow_up))
                for follow_up in visit.follow_ups.order_by("pk")
            ],
            order_url=reverse("partners_orders:detail", args=(visit.order_id,)),
            case_url=reverse("tracking_cases:detail", args=(visit.order.case_id,)),
            sample_url=sample_url(visit.sample_id),
            may_follow_up=self.request.user.has_perm("partners.add_partnerfollowup"),
        )
        return context

    def step_url(self) -> str:
        return visit_url(self.visit)

    def _plan(self, data):
        form = forms.VisitPlanForm(data)
        if not form.is_valid():
            return {"plan_form": form}, None

        def run():
            services.home_visit_plan(
                visit=self.visit,
                planned_at=form.planned_at(),
                invite_partner=form.cleaned_data["invite_partner"],
                user=self.request.user,
            )
            return _("The visit was planned.")

        return {"plan_form": form}, run

    def _record(self, data):
        form = forms.VisitRecordForm(data)
        if not form.is_valid():
            return {"record_form": form}, None

        def run():
            services.home_visit_record(
                visit=self.visit,
                outcome=form.cleaned_data["outcome"],
                satisfied=form.verdict(),
                suggestions=form.cleaned_data["suggestions"],
                note=form.cleaned_data["note"],
                user=self.request.user,
            )
            return _("The visit was recorded.")

        return {"record_form": form}, run

    def _follow_up(self, data):
        form = forms.FollowUpForm(data)
        if not form.is_valid():
            return {"follow_up_form": form}, None

        def run():
            services.follow_up_create(
                visit=self.visit,
                task=form.cleaned_data["task"],
                due_on=form.cleaned_data["due_on"],
                user=self.request.user,
            )
            return _("The partner was given follow-up work.")

        return {"follow_up_form": form}, run


class FollowUpDetailView(_AdminPage):
    """One piece of follow-up work: the suggestion it came from, the verdict of
    that visit, and a form to mark it done. A partner's account sees its own."""

    permission_policy = ModelPermissionPolicy(PartnerFollowUp)
    permission_required = "view"
    template_name = "partners/follow_up_detail.html"
    page_title = gettext_lazy("Follow-up work")
    header_icon = "tasks"

    @cached_property
    def follow_up(self):
        return get_object_or_404(
            follow_ups_visible_to(self.request.user).select_related(
                "partner", "visit", "order__case", "done_by"
            ),
            pk=self.kwargs["pk"],
        )

    def get_page_subtitle(self):
        return f"{self.follow_up.partner} · {self.follow_up.due_on:%Y-%m-%d}"

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {
                "url": reverse(f"{FOLLOW_UPS_URL_NAMESPACE}:index"),
                "label": _("Follow-up work"),
            },
            {"url": "", "label": self.get_page_subtitle()},
        ]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        follow_up = self.follow_up
        context.setdefault("done_form", forms.FollowUpDoneForm())
        context.update(
            follow_up=follow_up,
            visit=follow_up.visit,
            verdict=verdict_text(follow_up.visit) if follow_up.visit else "–",
            may_change=self.request.user.has_perm("partners.change_partnerfollowup"),
        )
        return context

    def post(self, request, *args, **kwargs):
        form = forms.FollowUpDoneForm(request.POST)
        if not form.is_valid():
            return self.render_to_response(
                self.get_context_data(done_form=form), status=400
            )
        try:
            services.follow_up_complete(
                follow_up=self.follow_up,
                note=form.cleaned_data["note"],
                user=request.user,
            )
        except CasePermissionDenied as exc:
            return _forbidden(request, str(exc), follow_up_url(self.follow_up))
        except CaseError as exc:
            messages.error(request, str(exc))
            return self.render_to_response(
                self.get_context_data(done_form=form), status=400
            )
        messages.success(request, _("The follow-up work was marked done."))
        return redirect(follow_up_url(self.follow_up))
