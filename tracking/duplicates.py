"""Reads that connect a request to others: the caller's earlier cases and calls,
and other reports of what may be the same problem.

Both are for the hotline's officers. A department liaison sees their own
department's cases only, and never what else a citizen has asked about, so
:func:`caller_history` is empty for them; :func:`possible_duplicates` keeps to
the cases the given user may see.

Every query here is bounded: by the caller's phone (an indexed column), or by a
category, a state and a window of registration dates with a row limit, so that
neither read scans the history of a megacity line.
"""

from __future__ import annotations

import difflib
import math
import unicodedata
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Case as SqlCase
from django.db.models import IntegerField, Q, Value, When

from .models import OPEN_STATES, Call, Case, normalize_phone

#: How many candidates one duplicate query reads at most.
CANDIDATE_LIMIT = 200
#: Title and description are compared on this many characters at most.
COMPARED_CHARACTERS = 400
#: difflib's ratio from which two texts are "very similar".
SIMILAR_TEXT_RATIO = 0.8
EARTH_RADIUS_M = 6_371_000
METRES_PER_DEGREE_LATITUDE = 111_320


# --- repeat callers -----------------------------------------------------------------


def may_see_caller_history(user) -> bool:
    """Officers see every case, so they may see all of one caller's; a liaison
    sees their department's cases, and not what else a citizen asked."""
    return bool(
        user is not None
        and user.is_authenticated
        and user.has_perm("tracking.view_all_cases")
    )


@dataclass
class CallerHistory:
    """What the hotline knows of a phone number: earlier cases and calls."""

    phone: str = ""
    cases: list[Case] = field(default_factory=list)
    #: All the cases of this number the user may see (``cases`` is cut to a limit).
    case_count: int = 0
    earlier_calls: int = 0

    @property
    def known(self) -> bool:
        return bool(self.case_count or self.earlier_calls)

    @property
    def more_cases(self) -> int:
        return max(self.case_count - len(self.cases), 0)


def caller_history(
    phone: str,
    *,
    user,
    limit: int = 10,
    exclude_case: Case | int | None = None,
    exclude_call: Call | int | None = None,
) -> CallerHistory:
    """The earlier cases of the citizens with this phone number that ``user`` may
    see (open ones first, then the newest) and how many calls came from it.

    ``exclude_case`` and ``exclude_call`` leave out the case or call being looked
    at. Empty for users who may not see caller histories and for a blank number.
    """
    number = normalize_phone(phone)
    if not number or not may_see_caller_history(user):
        return CallerHistory(phone=number)
    cases = Case.objects.visible_to(user).filter(citizen__phone=number)
    if exclude_case is not None:
        cases = cases.exclude(pk=getattr(exclude_case, "pk", exclude_case))
    calls = Call.objects.filter(caller_phone=number)
    if exclude_call is not None:
        calls = calls.exclude(pk=getattr(exclude_call, "pk", exclude_call))
    listed = list(
        cases.select_related("category", "department")
        .annotate(
            closed_rank=SqlCase(
                When(state__in=OPEN_STATES, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("closed_rank", "-registered_at", "-pk")[:limit]
    )
    count = len(listed) if len(listed) < limit else cases.count()
    return CallerHistory(
        phone=number, cases=listed, case_count=count, earlier_calls=calls.count()
    )


# --- possible duplicates --------------------------------------------------------------


NEAR = "near"
SAME_LOCATION = "same_location"
SAME_TITLE = "same_title"
SIMILAR_TEXT = "similar_text"
#: Reasons in the order of their weight, strongest first.
REASONS = (NEAR, SAME_LOCATION, SAME_TITLE, SIMILAR_TEXT)


def normalized_text(text: str) -> str:
    """Letters and digits only, case-folded, full-width forms made plain: the
    same title typed by two officers compares equal."""
    folded = unicodedata.normalize("NFKC", text or "").casefold()
    return "".join(
        char for char in folded if unicodedata.category(char)[0] in {"L", "N"}
    )


def distance_m(lat1, lon1, lat2, lon2) -> float:
    """Great-circle distance in metres (haversine)."""
    phi1, phi2 = math.radians(float(lat1)), math.radians(float(lat2))
    dphi = phi2 - phi1
    dlambda = math.radians(float(lon2) - float(lon1))
    a = (
        math.sin(dphi / 2) ** 2
        + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def _bounding_box(case: Case, metres: float) -> Q:
    """Cases whose point lies in the square around ``case``'s point (a cheap
    filter in SQL; the exact distance is computed afterwards)."""
    lat, lon = float(case.latitude), float(case.longitude)
    dlat = metres / METRES_PER_DEGREE_LATITUDE
    dlon = metres / (
        METRES_PER_DEGREE_LATITUDE * max(math.cos(math.radians(lat)), 0.01)
    )

    def degrees(value: float) -> Decimal:
        return Decimal(f"{value:.6f}")

    return Q(
        latitude__gte=degrees(lat - dlat),
        latitude__lte=degrees(lat + dlat),
        longitude__gte=degrees(lon - dlon),
        longitude__lte=degrees(lon + dlon),
    )


def _compared(case: Case) -> str:
    return normalized_text(f"{case.title} {case.description}")[:COMPARED_CHARACTERS]


def _similar(a: str, b: str) -> float:
    if not a or not b:
        return 0.0
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    if matcher.real_quick_ratio() < SIMILAR_TEXT_RATIO:
        return 0.0
    if matcher.quick_ratio() < SIMILAR_TEXT_RATIO:
        return 0.0
    return matcher.ratio()


def possible_duplicates(case: Case, *, limit: int = 5, user=None) -> list[Case]:
    """Open cases that may report the same problem as ``case``.

    Same category (or both without one), registered within
    ``TRACKING_DUPLICATE_WINDOW_DAYS`` days before or after it, not merged, not
    the case itself, and one of: both have a map point no more than
    ``TRACKING_DUPLICATE_DISTANCE_M`` metres apart; the same location text; the
    same title (ignoring case, spaces and punctuation); or title and description
    similar (difflib ratio of at least 0.8). Strongest matches first, then the
    earliest report (the one a duplicate is merged into).

    Each case returned carries ``duplicate_reasons`` (a list of :data:`REASONS`),
    ``distance_m`` (or ``None``) and ``similarity``. With ``user``, only cases
    that user may see.
    """
    window = timedelta(days=settings.TRACKING_DUPLICATE_WINDOW_DAYS)
    radius = settings.TRACKING_DUPLICATE_DISTANCE_M
    base = Case.objects.visible_to(user) if user is not None else Case.objects.all()
    base = base.filter(
        state__in=OPEN_STATES,
        registered_at__gte=case.registered_at - window,
        registered_at__lte=case.registered_at + window,
    )
    if case.pk is not None:
        base = base.exclude(pk=case.pk)
    if case.category_id is None:
        base = base.filter(category__isnull=True)
    else:
        base = base.filter(category_id=case.category_id)

    # Specific matches, however many reports the window holds...
    specific = Q(title__iexact=case.title.strip())
    location = case.location_text.strip()
    if location:
        specific |= Q(location_text__iexact=location)
    has_point = case.latitude is not None and case.longitude is not None
    if has_point:
        specific |= _bounding_box(case, radius)
    candidates = {
        other.pk: other
        for other in base.filter(specific).order_by("registered_at")[:CANDIDATE_LIMIT]
    }
    # ... and the newest reports of the window for the texts compared in Python.
    for other in base.order_by("-registered_at")[:CANDIDATE_LIMIT]:
        candidates.setdefault(other.pk, other)

    title = normalized_text(case.title)
    text = _compared(case)
    found = []
    for other in candidates.values():
        reasons = []
        other.distance_m = None
        if has_point and other.latitude is not None and other.longitude is not None:
            other.distance_m = distance_m(
                case.latitude, case.longitude, other.latitude, other.longitude
            )
            if other.distance_m <= radius:
                reasons.append(NEAR)
        if location and other.location_text.strip().casefold() == location.casefold():
            reasons.append(SAME_LOCATION)
        if title and normalized_text(other.title) == title:
            reasons.append(SAME_TITLE)
        other.similarity = _similar(text, _compared(other))
        if other.similarity >= SIMILAR_TEXT_RATIO and SAME_TITLE not in reasons:
            reasons.append(SIMILAR_TEXT)
        if reasons:
            other.duplicate_reasons = reasons
            found.append(other)

    def strength(other: Case):
        return (
            -len(other.duplicate_reasons),
            REASONS.index(other.duplicate_reasons[0]),
            other.distance_m if other.distance_m is not None else math.inf,
            -other.similarity,
            other.registered_at,
            other.pk,
        )

    return sorted(found, key=strength)[:limit]
