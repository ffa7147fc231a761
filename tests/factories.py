"""Factories for every app, with traits for the states a test needs."""

from __future__ import annotations

from datetime import datetime, timedelta

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from tracking import roles
from tracking.models import (
    Callback,
    CallbackOutcome,
    Case,
    CaseEvent,
    Category,
    Citizen,
    Department,
    DepartmentResponse,
    Kind,
    StaffProfile,
)


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"测试部门{n}")
    email = factory.Sequence(lambda n: f"dept{n}@example.gov.cn")


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ("service_code",)

    name = factory.Sequence(lambda n: f"分类{n}")
    service_code = factory.Sequence(lambda n: f"svc-{n}")
    default_department = factory.SubFactory(DepartmentFactory)
    handling_days = 5
    escalation_threshold_days = 3


class CitizenFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Citizen

    name = "张三丰"
    phone = factory.Sequence(lambda n: f"139{n:08d}")
    address = "幸福小区3号楼2单元401室"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.PostGenerationMethodCall("set_password", "pw-8890-test")

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if extracted:
            self.groups.add(Group.objects.get(name=extracted))

    @factory.post_generation
    def department(self, create, extracted, **kwargs):
        if extracted:
            StaffProfile.objects.update_or_create(
                user=self, defaults={"department": extracted}
            )
        self.save()


def staff(role: str, department: Department | None = None, **kwargs):
    """A staff user in ``role`` (one of tracking.roles), fresh permission cache."""
    user = UserFactory(role=role, department=department, **kwargs)
    return get_user_model().objects.get(pk=user.pk)


def officer(**kw):
    return staff(roles.CASE_OFFICERS, **kw)


def supervisor(**kw):
    return staff(roles.SUPERVISORS, **kw)


def liaison(department: Department, **kw):
    return staff(roles.DEPARTMENT_LIAISONS, department=department, **kw)


class CaseFactory(factory.django.DjangoModelFactory):
    """A case placed directly in a state, bypassing services (for set-up only).

    Traits: ``accepted``, ``dispatched``, ``overdue`` (dispatched and past due).
    """

    class Meta:
        model = Case

    reference = factory.Sequence(lambda n: f"8890-20000101-{n:05d}")
    kind = Kind.COMPLAINT
    is_efficiency = False
    title = "五湖路与花园大道十字路口直行车道拥堵"
    description = "直行车道排长队，右转车道空着。"
    category = factory.SubFactory(CategoryFactory)
    department = factory.LazyAttribute(
        lambda c: c.category.default_department if c.category else None
    )
    citizen = factory.SubFactory(CitizenFactory)
    registered_at = factory.LazyFunction(timezone.now)

    @classmethod
    def _create(cls, model_class, *args, state=None, **kwargs):
        obj = model_class(*args, **kwargs)
        if state:
            # Set-up only: tests that exercise transitions go through services.
            model_class._meta.get_field("state").protected = False
            try:
                obj.state = state
            finally:
                model_class._meta.get_field("state").protected = True
        obj.save()
        return obj

    class Params:
        dispatched = factory.Trait(
            state="dispatched",
            dispatched_at=factory.LazyFunction(
                lambda: timezone.now() - timedelta(days=1)
            ),
            due_at=factory.LazyFunction(lambda: timezone.now() + timedelta(days=4)),
        )
        overdue = factory.Trait(
            state="dispatched",
            is_efficiency=True,
            dispatched_at=factory.LazyFunction(
                lambda: timezone.now() - timedelta(days=30)
            ),
            due_at=factory.LazyFunction(lambda: timezone.now() - timedelta(days=20)),
        )


def case_in_state(state: str, **kwargs) -> Case:
    return CaseFactory(state=state, **kwargs)


class ResponseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DepartmentResponse

    case = factory.SubFactory(CaseFactory)
    department = factory.LazyAttribute(lambda r: r.case.department)
    text = "已安排施划直行标线。"


class CallbackFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Callback

    case = factory.SubFactory(CaseFactory)
    outcome = CallbackOutcome.SATISFIED


class EventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CaseEvent

    case = factory.SubFactory(CaseFactory)
    action = "note"


def aware(*args) -> datetime:
    """A datetime in the hotline's time zone: aware(2026, 9, 30, 10)."""
    from tracking.calendar import local_zone

    return datetime(*args, tzinfo=local_zone())


def remake_review_workflows() -> None:
    """The review workflows and their tasks as the newsroom's data migrations make
    them, for transactional tests (their flush removed what the migrations made).

    The migrations of that time find the role groups by their English keys, and
    the later renaming migrations give groups, workflows and tasks the install
    language's names: run in that order here too. Each step leaves alone what
    is there already.
    """
    from importlib import import_module

    from django.apps import apps
    from django.contrib.auth.models import Group

    from tracking import roles

    for key in roles.ROLE_KEYS:
        Group.objects.filter(name=roles.group_name(key)).update(name=key)
    import_module(
        "newsroom.migrations.0004_hot_tracking_column_and_review"
    ).create_column_and_workflows(apps, None)
    import_module("newsroom.migrations.0006_editor_writing_task").add_editor_task(
        apps, None
    )
    import_module("tracking.migrations.0020_chinese_names").rename_groups(apps, None)
    import_module("newsroom.migrations.0010_chinese_names").rename(apps, None)
