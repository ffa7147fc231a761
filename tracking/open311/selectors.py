"""Reads of Open311: services and service requests, public-safe, in fixed queries.

A service request is what the public may know of a case: its reference, status,
category, department, dates, place and the latest public line of its timeline.
Free text passes :func:`tracking.redaction.redact` with the case's own rules; the
citizen row is read only to build those rules and never leaves this module.
A page of requests costs the same few queries however many cases it holds.
"""

from __future__ import annotations

from django.db.models import F, OuterRef, Subquery
from django.utils.translation import gettext as _

from .. import actions
from ..models import (
    OPEN_STATES,
    TERMINAL_STATES,
    Case,
    CaseEvent,
    Category,
    HeardOf,
    State,
)
from ..redaction import redact, rules_for_cases
from .formats import w3c
from .forms import HEARD_OF, RequestFilters

REALTIME = "realtime"


def service_list() -> list[dict]:
    categories = (
        Category.objects.filter(is_active=True)
        .select_related("default_department")
        .order_by("name", "pk")
    )
    return [
        {
            "service_code": category.service_code,
            "service_name": category.name,
            "description": category.description,
            # Every service has the optional HEARD_OF attribute.
            "metadata": True,
            "type": REALTIME,
            "keywords": "",
            "group": category.default_department.name
            if category.default_department_id
            else "",
        }
        for category in categories
    ]


def service_definition(code: str) -> dict | None:
    if not Category.objects.filter(service_code=code, is_active=True).exists():
        return None
    return {"service_code": code, "attributes": [heard_of_attribute()]}


def heard_of_attribute() -> dict:
    """How the citizen heard of 8890, an optional attribute of every service
    (GeoReport v2 ``attribute[HEARD_OF]``), answered with one of its keys."""
    return {
        "variable": True,
        "code": HEARD_OF,
        "datatype": "singlevaluelist",
        "required": False,
        "datatype_description": "",
        "order": 1,
        "description": _("Where did you hear of 8890?"),
        "values": [{"key": key, "name": str(name)} for key, name in HeardOf.choices],
    }


def _cases():
    latest = CaseEvent.objects.filter(case_id=OuterRef("pk")).order_by(
        "-created_at", "-pk"
    )
    return (
        Case.objects.select_related("category", "department", "citizen")
        .annotate(
            last_event_at=Subquery(latest.values("created_at")[:1]),
            last_public_event_id=Subquery(latest.filter(public=True).values("pk")[:1]),
            merged_into=F("duplicate_of__reference"),
        )
        .order_by("-registered_at", "-pk")
    )


def service_requests(filters: RequestFilters, page_size: int) -> tuple[list, bool]:
    """One page of requests, newest first, and whether another page follows."""
    cases = _cases()
    if filters.references:
        found = list(cases.filter(reference__in=filters.references))
        return serialize(found), False
    cases = cases.filter(
        registered_at__gte=filters.start, registered_at__lte=filters.end
    )
    if filters.service_codes:
        cases = cases.filter(category__service_code__in=filters.service_codes)
    if filters.statuses == {"open"}:
        cases = cases.filter(state__in=OPEN_STATES)
    elif filters.statuses == {"closed"}:
        cases = cases.filter(state__in=TERMINAL_STATES)
    offset = (filters.page - 1) * page_size
    found = list(cases[offset : offset + page_size + 1])
    return serialize(found[:page_size]), len(found) > page_size


def service_request(reference: str) -> dict | None:
    case = _cases().filter(reference=reference).first()
    return serialize([case])[0] if case is not None else None


def status(case: Case) -> str:
    return "closed" if case.state in TERMINAL_STATES else "open"


def _status_notes(case: Case, event: CaseEvent | None, rules) -> str | None:
    """The latest public line of the timeline, in the words the public sees."""
    if case.state == State.MERGED and case.merged_into:
        return _("Merged into case %(reference)s.") % {"reference": case.merged_into}
    if event is None:
        return None
    action = actions.get(event.action)
    if not action.public:
        return None
    label = str(action.public_label)
    note = redact(event.note, case=case, rules=rules) if action.public_note else ""
    if not note.strip():
        return label
    return _("%(label)s: %(note)s") % {"label": label, "note": note}


def serialize(cases: list[Case]) -> list[dict]:
    """GeoReport v2's fields of each case (cases from :func:`_cases`)."""
    if not cases:
        return []
    event_ids = [c.last_public_event_id for c in cases if c.last_public_event_id]
    events = CaseEvent.objects.in_bulk(event_ids) if event_ids else {}
    rules = rules_for_cases(cases)
    result = []
    for case in cases:
        case_rules = rules[case.pk]
        category, department = case.category, case.department
        result.append(
            {
                "service_request_id": case.reference,
                "status": status(case),
                "status_notes": _status_notes(
                    case, events.get(case.last_public_event_id), case_rules
                ),
                "service_name": category.name if category else None,
                "service_code": category.service_code if category else None,
                "description": redact(case.description, case=case, rules=case_rules)
                or None,
                "agency_responsible": department.name if department else None,
                "service_notice": None,
                "requested_datetime": w3c(case.registered_at),
                "updated_datetime": w3c(case.last_event_at or case.registered_at),
                "expected_datetime": w3c(case.due_at),
                "address": redact(case.location_text, case=case, rules=case_rules)
                or None,
                "address_id": None,
                "zipcode": None,
                "lat": float(case.latitude) if case.latitude is not None else None,
                "long": float(case.longitude) if case.longitude is not None else None,
                "media_url": case.media_url or None,
            }
        )
    return result
