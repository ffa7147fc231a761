"""Home visits (入户回访): a supervisor draws households at random among the
citizens served in a period, reproducibly by seed, leaving out those who opted
out and those visited lately; a visit is the case's callback of method
``home_visit`` when the case waits for one."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from tests.factories import CitizenFactory, aware, officer, supervisor
from tracking.exceptions import CasePermissionDenied, InvalidInput, TransitionRefused
from tracking.models import Callback, CallbackMethod, CallbackOutcome, CaseEvent
from tracking.partners import services
from tracking.partners.models import HomeVisit, VisitOptOut, VisitOutcome

from .factories import ServiceOrderFactory, help_case

pytestmark = pytest.mark.django_db

NOW = aware(2026, 8, 1, 10)
JULY = (date(2026, 7, 1), date(2026, 7, 31))


def served(citizen=None, day=10, **case_kwargs):
    start = aware(2026, 7, day, 9)
    return ServiceOrderFactory(
        case=help_case(citizen=citizen or CitizenFactory(), **case_kwargs),
        appointment_start=start,
        appointment_end=start + timedelta(hours=2),
        done=True,
    )


def draw(seed, size=5, user=None, now=NOW):
    sample = services.home_visit_sample_draw(
        period_start=JULY[0],
        period_end=JULY[1],
        size=size,
        seed=seed,
        user=user or supervisor(),
        now=now,
    )
    return [v.citizen_id for v in sample.visits.all()]


def test_the_same_seed_draws_the_same_households():
    for day in range(1, 21):
        served(day=day)
    first = draw(seed=8890)
    HomeVisit.objects.all().delete()  # as if drawn afresh on the same data
    assert draw(seed=8890) == first
    HomeVisit.objects.all().delete()
    assert draw(seed=12345) != first
    assert len(first) == 5 and len(set(first)) == 5


def test_only_citizens_served_in_the_period_and_not_opted_out_are_drawn():
    inside = served(day=15)
    opted = served(day=16)
    VisitOptOut.objects.create(citizen=opted.case.citizen)
    before = ServiceOrderFactory(
        case=help_case(),
        appointment_start=aware(2026, 6, 20, 9),
        appointment_end=aware(2026, 6, 20, 11),
        done=True,
    )
    ServiceOrderFactory(case=help_case(), appointment_start=aware(2026, 7, 3, 9))
    drawn = draw(seed=1, size=50)
    assert drawn == [inside.case.citizen_id]
    assert before.case.citizen_id not in drawn


def test_a_citizen_served_twice_is_one_household_with_the_latest_order():
    citizen = CitizenFactory()
    served(citizen=citizen, day=3)
    latest = served(citizen=citizen, day=20)
    sample = services.home_visit_sample_draw(
        period_start=JULY[0],
        period_end=JULY[1],
        size=10,
        seed=3,
        user=supervisor(),
        now=NOW,
    )
    (visit,) = sample.visits.all()
    assert visit.order == latest


def test_recently_drawn_or_visited_citizens_are_left_out():
    for day in range(1, 6):
        served(day=day)
    first = draw(seed=7, size=2)
    second = draw(seed=7, size=10, now=NOW + timedelta(days=1))
    assert set(first).isdisjoint(second) and len(second) == 3
    much_later = NOW + timedelta(days=400)
    assert len(draw(seed=7, size=10, now=much_later)) == 5


def test_only_supervisors_draw_and_the_input_is_checked():
    with pytest.raises(CasePermissionDenied):
        draw(seed=1, user=officer())
    with pytest.raises(InvalidInput):
        services.home_visit_sample_draw(
            period_start=JULY[1],
            period_end=JULY[0],
            size=5,
            seed=1,
            user=supervisor(),
        )


def replied(order):
    order.case.replied_at = timezone.now() - timedelta(days=1)
    order.case.save()
    return order


def test_a_done_visit_is_the_home_visit_callback_of_a_case_that_waits_for_one():
    order = replied(served(state="replied"))
    draw(seed=1)
    visit = HomeVisit.objects.get()
    services.home_visit_record(
        visit=visit,
        outcome=VisitOutcome.DONE,
        satisfied=True,
        suggestions="希望师傅上门前先打电话",
        note="师傅一起上门",
        user=supervisor(),
    )
    visit.refresh_from_db()
    assert visit.outcome == "done" and visit.satisfied is True
    assert visit.visited_at is not None and visit.suggestions
    callback = Callback.objects.get(case=order.case)
    assert callback.method == CallbackMethod.HOME_VISIT
    assert callback.outcome == CallbackOutcome.SATISFIED
    assert CaseEvent.objects.filter(case=order.case, action="callback").count() == 1


def test_a_dissatisfied_verdict_and_nobody_reached_are_callbacks_too():
    unhappy = replied(served(state="replied", day=5))
    away = replied(served(state="replied", day=6))
    draw(seed=1)
    visits = {v.order_id: v for v in HomeVisit.objects.all()}
    services.home_visit_record(
        visit=visits[unhappy.pk], outcome="done", satisfied=False, user=supervisor()
    )
    services.home_visit_record(
        visit=visits[away.pk], outcome="unreachable", user=supervisor()
    )
    assert Callback.objects.get(case=unhappy.case).outcome == "dissatisfied"
    assert Callback.objects.get(case=away.case).outcome == "unreachable"


def test_a_declined_visit_writes_no_callback():
    replied(served(state="replied"))
    draw(seed=1)
    services.home_visit_record(
        visit=HomeVisit.objects.get(), outcome="declined", user=supervisor()
    )
    assert HomeVisit.objects.get().outcome == "declined"
    assert not Callback.objects.exists()


def test_a_visit_is_recorded_once_and_all_or_nothing():
    order = replied(served(state="replied"))
    draw(seed=1)
    visit = HomeVisit.objects.get()
    with pytest.raises(InvalidInput):  # a visit that took place needs a verdict
        services.home_visit_record(visit=visit, outcome="done", user=supervisor())
    with pytest.raises(InvalidInput):  # no verdict from a visit that did not
        services.home_visit_record(
            visit=visit, outcome="unreachable", satisfied=True, user=supervisor()
        )
    assert HomeVisit.objects.get().outcome == "" and not Callback.objects.exists()
    services.home_visit_record(
        visit=visit, outcome="done", satisfied=True, user=supervisor()
    )
    with pytest.raises(TransitionRefused):
        services.home_visit_record(
            visit=visit, outcome="done", satisfied=False, user=supervisor()
        )
    assert Callback.objects.filter(case=order.case).count() == 1
    assert HomeVisit.objects.get().satisfied is True


def test_the_visit_stays_unrecorded_when_its_callback_is_refused(monkeypatch):
    from tracking import services as case_services

    replied(served(state="replied"))
    draw(seed=1)

    def refuse(**kwargs):
        raise TransitionRefused("no")

    monkeypatch.setattr(case_services, "callback_record", refuse)
    with pytest.raises(TransitionRefused):
        services.home_visit_record(
            visit=HomeVisit.objects.get(),
            outcome="done",
            satisfied=True,
            user=supervisor(),
        )
    assert HomeVisit.objects.get().outcome == ""


def test_a_visit_to_a_closed_case_is_kept_without_a_callback():
    served(state="closed")
    draw(seed=1)
    visit = HomeVisit.objects.get()
    with pytest.raises(InvalidInput):
        services.home_visit_record(visit=visit, outcome="great", user=supervisor())
    services.home_visit_record(
        visit=visit, outcome="done", satisfied=False, user=supervisor()
    )
    assert HomeVisit.objects.get().outcome == "done"
    assert not Callback.objects.exists()


def test_only_supervisors_plan_and_record_visits():
    served(state="replied")
    draw(seed=1)
    visit = HomeVisit.objects.get()
    with pytest.raises(CasePermissionDenied):
        services.home_visit_record(
            visit=visit, outcome="done", satisfied=True, user=officer()
        )
    with pytest.raises(CasePermissionDenied):
        services.home_visit_plan(
            visit=visit, planned_at=NOW, invite_partner=True, user=officer()
        )
    services.home_visit_plan(
        visit=visit, planned_at=NOW, invite_partner=True, user=supervisor()
    )
    visit.refresh_from_db()
    assert visit.planned_at == NOW and visit.invite_partner


def test_the_recent_visit_exclusion_is_the_draws_own():
    for day in range(1, 6):
        served(day=day)
    first = draw(seed=7, size=2)
    sample = services.home_visit_sample_draw(
        period_start=JULY[0],
        period_end=JULY[1],
        size=10,
        seed=7,
        recent_days=0,  # nobody left out: the first two may be drawn again
        user=supervisor(),
        now=NOW + timedelta(days=1),
    )
    assert sample.recent_days == 0
    assert set(first) <= {v.citizen_id for v in sample.visits.all()}
    with pytest.raises(InvalidInput):
        draw_with(recent_days=-1)


def draw_with(**kwargs):
    return services.home_visit_sample_draw(
        period_start=JULY[0],
        period_end=JULY[1],
        size=5,
        seed=1,
        user=supervisor(),
        now=NOW,
        **kwargs,
    )
