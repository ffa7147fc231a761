"""The public doors of the hotline: the web form and the progress lookup.

Thin views: the form checks the input, :func:`tracking.services.case_register`
stores the request, :mod:`tracking.selectors` reads a case's progress. None of
these pages is kept by the public page cache (none calls
``newsroom.cache.mark_cacheable``; each carries a CSRF token or a citizen's case),
and each tells browsers and proxies not to keep it either.

Limits (django-ratelimit counts in the shared cache, see
:mod:`tracking.ratelimits`):

- Web form: what is counted is a request that would be stored, i.e. a valid form
  (and a robot's, see the honeypot), per client address
  (``INTAKE_RATE_PER_IP``) and per phone number (``INTAKE_RATE_PER_PHONE``). A
  citizen correcting a mistake is not counted; an address over its limit is
  answered 429 before its uploads are even decoded.
- Progress lookup: only failures are counted (an unknown reference, other phone
  digits), per client address (``LOOKUP_FAILURES_PER_IP``) and per reference
  number (``LOOKUP_FAILURES_PER_REFERENCE``, five an hour: ten thousand
  possible digits, guessed from many addresses, stay out of reach). Over either
  limit, the lookup answers 429 even for the right digits, so that guessing on
  cannot find them.
"""

from __future__ import annotations

from django.conf import settings
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from .. import ratelimits, selectors, services
from ..exceptions import CaseError
from ..models import Channel, State
from ..partners.selectors import service_records_for_lookup
from .forms import HONEYPOT, LookupForm, ReportForm

SESSION_REFERENCE = "tracking_intake_reference"
REPORT_BY_IP = "intake-report-ip"
REPORT_BY_PHONE = "intake-report-phone"
LOOKUP_FAILURES_BY_IP = "intake-lookup-failures-ip"
LOOKUP_FAILURES_BY_REFERENCE = "intake-lookup-failures-reference"


def _lookup_rate_per_reference() -> str:
    return settings.LOOKUP_FAILURES_PER_REFERENCE


def _too_many(request, message: str, group: str, rate: str, value=None):
    """The 429 page: what happened, and when to try again."""
    seconds = ratelimits.retry_after(request, group, rate, value=value)
    response = render(
        request,
        "tracking/intake/limited.html",
        {"message": message, "minutes": max(1, -(-seconds // 60))},
        status=429,
    )
    response["Retry-After"] = str(seconds)
    return response


def _report_limited(request):
    return _too_many(
        request,
        _(
            "Too many requests have been sent from your network. Please try again "
            "later, or call the hotline on 8890."
        ),
        REPORT_BY_IP,
        settings.INTAKE_RATE_PER_IP,
    )


def _too_large(request) -> bool:
    """Whether the body is larger than the photos allowed and a form: refused
    before any of it is read (Django caps form fields, not uploaded files)."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return True
    return length > settings.INTAKE_MAX_REQUEST_BYTES


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def report(request):
    """The web form (提交诉求): a valid request is registered, channel "web"."""
    if request.method != "POST":
        return render(request, "tracking/intake/report.html", {"form": ReportForm()})
    if _too_large(request):
        return render(
            request,
            "tracking/intake/too_large.html",
            {
                "max_photos": settings.INTAKE_MAX_PHOTOS,
                "megabytes": settings.INTAKE_MAX_PHOTO_BYTES // 2**20,
            },
            status=413,
        )
    rate = settings.INTAKE_RATE_PER_IP
    if ratelimits.exceeded(request, REPORT_BY_IP, rate, count=False):
        return _report_limited(request)
    if request.POST.get(HONEYPOT, "").strip():
        # A robot: nothing is stored, and it is told nothing it could learn from.
        if ratelimits.exceeded(request, REPORT_BY_IP, rate):
            return _report_limited(request)
        return redirect("intake:report_done")
    form = ReportForm(request.POST, request.FILES)
    if form.is_valid():
        if ratelimits.exceeded(request, REPORT_BY_IP, rate):
            return _report_limited(request)
        phone, phone_rate = form.cleaned_data["phone"], settings.INTAKE_RATE_PER_PHONE
        if ratelimits.exceeded(request, REPORT_BY_PHONE, phone_rate, value=phone):
            return _too_many(
                request,
                _(
                    "Too many requests have been sent with this phone number today. "
                    "Please call the hotline on 8890 about further problems."
                ),
                REPORT_BY_PHONE,
                phone_rate,
                value=phone,
            )
        try:
            case = services.case_register(user=None, **form.service_kwargs())
        except CaseError as exc:
            form.add_error(None, str(exc))
        else:
            # Shown on the next page only to this browser: the reference is in no
            # address, so no log or shared link reveals it.
            request.session[SESSION_REFERENCE] = case.reference
            return redirect("intake:report_done")
    return render(request, "tracking/intake/report.html", {"form": form}, status=400)


@never_cache
@require_http_methods(["GET", "HEAD"])
def report_done(request):
    """The confirmation: the reference number of this browser's last request,
    and what happens next. Nothing else of the case."""
    return render(
        request,
        "tracking/intake/report_done.html",
        {
            "reference": request.session.get(SESSION_REFERENCE, ""),
            "state": State.REGISTERED.label,
            "channel": Channel.WEB.label,
        },
    )


def _lookup_limited(request, group: str, rate: str, value=None):
    return _too_many(
        request,
        _(
            "Too many lookups have failed. Please try again later, or call the "
            "hotline on 8890 to ask about your request."
        ),
        group,
        rate,
        value=value,
    )


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def progress(request):
    """The progress lookup (进度查询): reference number + last phone digits.

    Posted, so that the digits are in no address or log. Every wrong pair gets
    the same answer.
    """
    if request.method != "POST":
        return render(request, "tracking/intake/progress.html", {"form": LookupForm()})
    form = LookupForm(request.POST)
    if not form.is_valid():
        return render(
            request, "tracking/intake/progress.html", {"form": form}, status=400
        )
    reference = form.cleaned_data["reference"]
    ip_rate, reference_rate = (
        settings.LOOKUP_FAILURES_PER_IP,
        _lookup_rate_per_reference(),
    )
    if ratelimits.exceeded(request, LOOKUP_FAILURES_BY_IP, ip_rate, count=False):
        return _lookup_limited(request, LOOKUP_FAILURES_BY_IP, ip_rate)
    if ratelimits.exceeded(
        request,
        LOOKUP_FAILURES_BY_REFERENCE,
        reference_rate,
        value=reference,
        count=False,
    ):
        return _lookup_limited(
            request, LOOKUP_FAILURES_BY_REFERENCE, reference_rate, value=reference
        )
    case = selectors.case_for_lookup(reference, form.cleaned_data["phone_tail"])
    if case is None:
        # Both are counted, whichever is over.
        over_ip = ratelimits.exceeded(request, LOOKUP_FAILURES_BY_IP, ip_rate)
        over_reference = ratelimits.exceeded(
            request, LOOKUP_FAILURES_BY_REFERENCE, reference_rate, value=reference
        )
        if over_ip:
            return _lookup_limited(request, LOOKUP_FAILURES_BY_IP, ip_rate)
        if over_reference:
            return _lookup_limited(
                request, LOOKUP_FAILURES_BY_REFERENCE, reference_rate, value=reference
            )
        form.add_error(
            None,
            _(
                "No request matches this reference number and these digits. Check "
                "both and try again."
            ),
        )
        return render(
            request, "tracking/intake/progress.html", {"form": form}, status=400
        )
    return render(
        request,
        "tracking/intake/progress.html",
        {
            "form": LookupForm(),
            "progress": selectors.case_progress(case),
            # The partners' service records of this case only, redacted.
            "service_records": service_records_for_lookup(case),
        },
    )
