"""The services of service orders: who may refer a help request, the service
record, the citizen's rating, and the flag raised once per crossing."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.factories import (
    CaseFactory,
    DepartmentFactory,
    aware,
    liaison,
    officer,
    staff,
    supervisor,
)
from tracking import roles
from tracking.exceptions import CasePermissionDenied, InvalidInput, TransitionRefused
from tracking.models import Kind, OutboxMessage
from tracking.partners import services
from tracking.partners.models import (
    LineKind,
    OrderStatus,
    Partner,
    PartnerFlag,
    ServiceOrder,
)
from tracking.partners.services import LineData
from tracking.partners.tasks import notify_partner_flagged

from .factories import PartnerFactory, ServiceOrderFactory, help_case

pytestmark = pytest.mark.django_db

START = aware(2026, 7, 15, 9)
END = aware(2026, 7, 15, 11)


def create(case=None, partner=None, user=None, **kw):
    return services.order_create(
        case=case or help_case(),
        partner=partner or PartnerFactory(),
        appointment_start=kw.pop("start", START),
        appointment_end=kw.pop("end", END),
        user=user or officer(),
        **kw,
    )


# --- referring --------------------------------------------------------------------


def test_an_officer_refers_an_open_help_request_to_an_active_partner():
    order = create()
    assert order.status == OrderStatus.SCHEDULED
    assert (order.appointment_start, order.appointment_end) == (START, END)


@pytest.mark.parametrize(
    "case_kwargs", [{"kind": Kind.COMPLAINT}, {"state": "closed"}, {"state": "merged"}]
)
def test_only_open_help_requests_are_referred(case_kwargs):
    with pytest.raises(TransitionRefused):
        create(case=help_case(**case_kwargs))
    assert not ServiceOrder.objects.exists()


def test_an_inactive_partner_is_not_offered():
    with pytest.raises(InvalidInput):
        create(partner=PartnerFactory(is_active=False))


def test_the_window_must_end_after_it_starts():
    with pytest.raises(InvalidInput):
        create(start=END, end=START)


@pytest.mark.parametrize("role", [roles.EDITORS, roles.DEPARTMENT_LIAISONS])
def test_who_does_not_handle_orders_may_not_refer(role):
    department = DepartmentFactory()
    user = staff(role, department=department)
    with pytest.raises(CasePermissionDenied):
        create(case=help_case(department=department), user=user)
    assert not ServiceOrder.objects.exists()


# --- the record ---------------------------------------------------------------------


LINES = [
    LineData("聚氨酯防水涂料", Decimal("1.5"), Decimal("28.00"), unit="千克"),
    LineData("人工", Decimal("2"), Decimal("80"), kind=LineKind.LABOUR, unit="小时"),
]


def test_the_record_replaces_its_lines_and_completes_the_order():
    user = officer()
    order = create(user=user)
    services.order_record(order=order, lines=LINES[:1], service_done="", user=user)
    done_at = END - timedelta(minutes=30)
    services.order_record(
        order=order,
        lines=LINES,
        service_done="更换防水层",
        completed_at=done_at,
        user=user,
    )
    order.refresh_from_db()
    assert order.status == OrderStatus.DONE and order.completed_at == done_at
    assert [line.description for line in order.lines.all()] == [
        "聚氨酯防水涂料",
        "人工",
    ]
    assert order.total() == Decimal("202.00")
    assert order.is_on_time() is True


def test_a_bad_line_leaves_the_record_as_it_was():
    user = officer()
    order = create(user=user)
    services.order_record(order=order, lines=LINES, service_done="", user=user)
    bad = [LINES[0], LineData("水管", Decimal("-1"), Decimal("5"))]
    with pytest.raises(InvalidInput):
        services.order_record(order=order, lines=bad, service_done="", user=user)
    assert order.lines.count() == 2


@pytest.mark.parametrize(
    "text", ["师傅电话13712345678", "身份证 110101199003071234", "a@b.cn 联系"]
)
def test_personal_data_is_kept_out_of_the_record_the_citizen_sees(text):
    user = officer()
    order = create(user=user)
    with pytest.raises(InvalidInput):
        services.order_record(order=order, lines=[], service_done=text, user=user)
    with pytest.raises(InvalidInput):
        services.order_record(
            order=order,
            lines=[LineData(text, Decimal("1"), Decimal("1"))],
            service_done="",
            user=user,
        )


def test_completing_needs_what_was_done_and_a_past_time():
    user = officer()
    order = create(user=user)
    with pytest.raises(InvalidInput):
        services.order_record(
            order=order, lines=[], service_done="", completed_at=END, user=user
        )
    with pytest.raises(InvalidInput):
        services.order_record(
            order=order,
            lines=[],
            service_done="修好了",
            completed_at=timezone.now() + timedelta(hours=1),
            user=user,
        )
    assert ServiceOrder.objects.get(pk=order.pk).status == OrderStatus.SCHEDULED


def test_a_cancelled_order_keeps_no_record_and_cannot_be_moved():
    user = officer()
    order = create(user=user)
    with pytest.raises(InvalidInput):
        services.order_cancel(order=order, reason=" ", user=user)
    services.order_cancel(order=order, reason="市民已自行修好", user=user)
    with pytest.raises(TransitionRefused):
        services.order_record(order=order, lines=LINES, service_done="", user=user)
    with pytest.raises(TransitionRefused):
        services.order_reschedule(
            order=order, appointment_start=START, appointment_end=END, user=user
        )


# --- on time ------------------------------------------------------------------------


def test_on_time_share_counts_due_orders_only():
    partner = PartnerFactory()
    now = timezone.now()
    # Done within the window, done late, overdue and not done, ahead, cancelled.
    ServiceOrderFactory(partner=partner, done=True)
    late = ServiceOrderFactory(partner=partner, done=True)
    late.completed_at = late.appointment_end + timedelta(minutes=1)
    late.save()
    ServiceOrderFactory(partner=partner)
    ServiceOrderFactory(partner=partner, appointment_start=now + timedelta(days=1))
    ServiceOrderFactory(partner=partner, status=OrderStatus.CANCELLED)
    figures = Partner.objects.with_figures(now).get(pk=partner.pk)
    assert figures.orders_count == 4
    assert (figures.on_time_count, figures.due_count) == (1, 3)
    assert late.is_on_time() is False


# --- ratings and the flag -----------------------------------------------------------


def done_order(partner, user):
    order = ServiceOrderFactory(partner=partner, done=True)
    return order


def test_a_rating_is_recorded_once_the_service_is_done():
    user = officer()
    scheduled = ServiceOrderFactory()
    with pytest.raises(TransitionRefused):
        services.order_rate(order=scheduled, rating=5, user=user)
    order = ServiceOrderFactory(done=True)
    for bad in (0, 6, "x", None):
        with pytest.raises(InvalidInput):
            services.order_rate(order=order, rating=bad, user=user)
    services.order_rate(order=order, rating=4, comment=" 很好 ", user=user)
    order.refresh_from_db()
    assert (order.rating, order.rating_comment, order.rated_by) == (4, "很好", user)
    assert not order.is_complaint


def test_the_flag_is_raised_once_when_complaints_reach_the_threshold(settings):
    settings.PARTNER_COMPLAINTS_FLAG = 3
    user = officer()
    partner = PartnerFactory()
    now = timezone.now()
    orders = [done_order(partner, user) for _ in range(5)]
    services.order_rate(order=orders[0], rating=2, user=user, now=now)
    services.order_rate(order=orders[1], rating=5, user=user, now=now)
    services.order_rate(order=orders[2], rating=1, user=user, now=now)
    assert not PartnerFlag.objects.exists()
    assert not Partner.objects.flagged(now).exists()
    services.order_rate(order=orders[3], rating=1, user=user, now=now)
    flag = PartnerFlag.objects.get()
    assert (flag.partner, flag.order, flag.complaints) == (partner, orders[3], 3)
    assert (
        OutboxMessage.objects.filter(task=services.FLAG_TASK, args=[flag.pk]).count()
        == 1
    )
    assert list(Partner.objects.flagged(now)) == [partner]
    # More complaints, or the same rating again, tell nobody anew.
    services.order_rate(order=orders[4], rating=2, user=user, now=now)
    services.order_rate(order=orders[3], rating=1, user=user, now=now)
    assert PartnerFlag.objects.count() == 1
    assert OutboxMessage.objects.filter(task=services.FLAG_TASK).count() == 1


def test_a_new_crossing_after_the_window_raises_a_new_flag(settings):
    settings.PARTNER_COMPLAINTS_FLAG = 2
    user = officer()
    partner = PartnerFactory()
    start = timezone.now() - timedelta(days=200)
    for _ in range(2):
        services.order_rate(
            order=done_order(partner, user), rating=1, user=user, now=start
        )
    assert PartnerFlag.objects.count() == 1
    later = start + timedelta(days=100)  # the first two fell out of the window
    assert not Partner.objects.flagged(later).exists()
    services.order_rate(order=done_order(partner, user), rating=1, user=user, now=later)
    assert PartnerFlag.objects.count() == 1
    services.order_rate(order=done_order(partner, user), rating=2, user=user, now=later)
    assert PartnerFlag.objects.count() == 2


def test_the_supervisors_are_mailed_about_a_flag(mailoutbox, settings):
    settings.PARTNER_COMPLAINTS_FLAG = 1
    boss = supervisor(email="boss@example.org")
    supervisor(email="")  # no address, no mail
    user = officer()
    order = done_order(PartnerFactory(name="应师傅防水"), user)
    services.order_rate(order=order, rating=1, user=user)
    flag = PartnerFlag.objects.get()
    assert notify_partner_flagged(flag.pk) == 1
    (mail,) = mailoutbox
    assert mail.to == [boss.email]
    assert "应师傅防水" in mail.subject
    assert f"/partners/partners/edit/{flag.partner_id}/" in mail.body


def test_orders_of_another_department_are_out_of_a_liaisons_reach():
    department, other = DepartmentFactory(), DepartmentFactory()
    order = ServiceOrderFactory(case=help_case(department=other), done=True)
    user = liaison(department)
    with pytest.raises(CasePermissionDenied):
        services.order_rate(order=order, rating=5, user=user)
    # Even given the order permissions, the department scoping holds.
    from django.contrib.auth.models import Permission

    user.user_permissions.add(Permission.objects.get(codename="change_serviceorder"))
    user = type(user).objects.get(pk=user.pk)
    with pytest.raises(CasePermissionDenied):
        services.order_rate(order=order, rating=5, user=user)


def test_a_case_that_does_not_exist_is_a_clear_error():
    with pytest.raises(InvalidInput):
        create(case=CaseFactory.build(pk=999999))
