"""The staff statistics dashboard (统计): the hotline's figures for a period,
department, category, kind or the efficiency complaints, with CSV and Excel
exports of the department table and the daily rows.

Hotline staff (``view_all_cases``) see every department; a department liaison
sees their own department only, whatever the request asks for.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date

from django import forms
from django.http import HttpResponse, HttpResponseForbidden
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import TemplateView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from ..models import (
    CallDay,
    CaseDay,
    Category,
    Department,
    FirstContactDay,
    Kind,
    department_id_of,
)
from ..statistics import periods
from ..statistics.dashboard import (
    DAILY_COUNTERS,
    Dashboard,
    DashboardFilters,
    launch_day,
)
from ..statistics.figures import min_sample

STATISTICS_URL_NAMESPACE = "tracking_statistics"
#: Days the page's daily table lists; the exports have every day.
DAILY_ROWS_SHOWN = 92
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# A cell a spreadsheet would read as a formula; and what XML cannot hold.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def may_see_statistics(user) -> bool:
    """Hotline staff, and a liaison of a department (for their department)."""
    if user.has_perm("tracking.view_all_cases"):
        return True
    return user.has_perm("tracking.view_case") and department_id_of(user) is not None


def scoped_department(user) -> int | None:
    """The only department ``user`` may see figures of; ``None``: any."""
    if user.has_perm("tracking.view_all_cases"):
        return None
    return department_id_of(user)


# --- filters ---------------------------------------------------------------------


class StatisticsFilterForm(forms.Form):
    """The dashboard's filters, from the query string (all optional)."""

    period = forms.CharField(
        label=gettext_lazy("Period"),
        required=False,
        max_length=40,
        help_text=gettext_lazy(
            "“all”, a year (2026), a month (2026-11) or two dates "
            "(2026-01-01..2026-03-31)."
        ),
    )
    start = forms.DateField(
        label=gettext_lazy("From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    end = forms.DateField(
        label=gettext_lazy("To"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy("Two dates take the place of the period."),
    )
    department = forms.ModelChoiceField(
        label=gettext_lazy("Department"),
        queryset=Department.objects.order_by("name", "pk"),
        required=False,
        empty_label=gettext_lazy("All departments"),
    )
    category = forms.ModelChoiceField(
        label=gettext_lazy("Category"),
        queryset=Category.objects.order_by("name", "pk"),
        required=False,
        empty_label=gettext_lazy("All categories"),
    )
    kind = forms.ChoiceField(
        label=gettext_lazy("Kind"),
        required=False,
        choices=[("", gettext_lazy("All kinds")), *Kind.choices],
    )
    efficiency = forms.BooleanField(
        label=gettext_lazy("Efficiency complaints only"), required=False
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        department_id = scoped_department(user)
        if department_id is not None:
            # A liaison's department is fixed: what the request says is ignored.
            field = self.fields["department"]
            field.queryset = field.queryset.filter(pk=department_id)
            field.initial = department_id
            field.disabled = True
            field.empty_label = None

    def clean_period(self):
        value = self.cleaned_data["period"]
        try:
            return periods.parse(value)
        except periods.PeriodError as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if (start is None) != (end is None):
            raise forms.ValidationError(_("Give both dates, or neither."))
        if start is not None and end is not None:
            try:
                cleaned["period"] = periods.parse(
                    f"{start.isoformat()}..{end.isoformat()}"
                )
            except periods.PeriodError as exc:
                self.add_error("end", str(exc))
        return cleaned

    def filters(self) -> DashboardFilters:
        """The filters of a valid form."""
        data = self.cleaned_data
        period = data["period"]
        if period.is_all:
            period = periods.since_launch(launch_day())
        department, category = data.get("department"), data.get("category")
        return DashboardFilters(
            period=period,
            department_id=department.pk if department else None,
            category_id=category.pk if category else None,
            kind=data.get("kind") or None,
            efficiency_only=bool(data.get("efficiency")),
        )


FILTERS = tuple(StatisticsFilterForm.base_fields)


def refusal() -> str:
    return _("Your account has no access to the hotline's statistics.")


def bound_form(request) -> StatisticsFilterForm:
    return StatisticsFilterForm(request.GET, user=request.user)


# --- the tables, as the page and the exports give them ----------------------------


def _rate(rate):
    return rate.value


def department_table(dashboard: Dashboard) -> tuple[list[str], list[list]]:
    headers = [
        _("Rank"),
        _("Department"),
        _("Dispatched"),
        _("Response rate"),
        _("Acknowledged within the limit"),
        _("Resolution rate"),
        _("Completed"),
        _("Satisfaction rate"),
        _("Satisfied"),
        _("Callbacks reached"),
        _("Median working days to reply"),
        _("Replies"),
        _("Returned"),
        _("Escalated"),
        _("Overdue now"),
    ]
    rows = [
        [
            d.rank,
            d.name,
            d.dispatched,
            _rate(d.response),
            d.response.numerator,
            _rate(d.resolution),
            d.resolution.numerator,
            _rate(d.satisfaction),
            d.satisfaction.numerator,
            d.satisfaction.sample,
            d.median_reply_days,
            d.replies,
            d.returned,
            d.escalated,
            d.overdue_now,
        ]
        for d in dashboard.departments()
    ]
    return headers, rows


#: The columns of department_table that hold a rate (a share, or empty).
RATE_COLUMNS = (3, 5, 7)


def daily_table(dashboard: Dashboard) -> tuple[list[str], list[list]]:
    headers = [str(CaseDay._meta.get_field("day").verbose_name)]
    if dashboard.calls_known:
        headers.append(str(CallDay._meta.get_field("calls").verbose_name))
        headers.append(str(FirstContactDay._meta.get_field("callers").verbose_name))
    headers += [
        str(CaseDay._meta.get_field(name).verbose_name) for name in DAILY_COUNTERS
    ]
    rows = []
    for row in dashboard.daily():
        cells: list = [row.day]
        if dashboard.calls_known:
            cells += [row.calls, row.first_time]
        cells += row.cells
        rows.append(cells)
    return headers, rows


TABLES = {"departments": department_table, "daily": daily_table}


def _safe_text(value: str) -> str:
    """Text a spreadsheet shows as typed: no formula, no control character."""
    value = _CONTROL.sub("", value)
    return "'" + value if value.startswith(_FORMULA_START) else value


def _csv_cell(value, is_rate: bool):
    if value is None:
        return ""
    if is_rate:
        return f"{value * 100:.1f}%"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return _safe_text(value)
    return value


def as_csv(headers, rows, rate_columns=()) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    for row in rows:
        writer.writerow(
            [_csv_cell(value, i in rate_columns) for i, value in enumerate(row)]
        )
    # With a byte order mark, Excel reads the Chinese of a CSV as UTF-8.
    return out.getvalue().encode("utf-8-sig")


def as_xlsx(title: str, headers, rows, rate_columns=()) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook(write_only=False)
    sheet = book.active
    sheet.title = title[:31]
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(
            [_safe_text(value) if isinstance(value, str) else value for value in row]
        )
    for column in rate_columns:
        for (cell,) in sheet.iter_rows(
            min_row=2, min_col=column + 1, max_col=column + 1
        ):
            cell.number_format = "0.0%"
    for (cell,) in sheet.iter_rows(min_row=2, min_col=1, max_col=1):
        if isinstance(cell.value, date):
            cell.number_format = "yyyy-mm-dd"
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- views -----------------------------------------------------------------------


class StatisticsView(WagtailAdminTemplateMixin, TemplateView):
    """The dashboard: the filter form, then the figures of the filtered set."""

    template_name = "tracking/statistics/dashboard.html"
    page_title = gettext_lazy("Statistics")
    header_icon = "table"

    def get(self, request, *args, **kwargs):
        if not may_see_statistics(request.user):
            # A 403 page rather than Wagtail's redirect home: a missing role is
            # seen as one.
            return TemplateResponse(
                request,
                "tracking/statistics/forbidden.html",
                {
                    "header_title": _("Not allowed"),
                    "page_title": _("Not allowed"),
                    "message": refusal(),
                },
                status=403,
            )
        self.form = bound_form(request)
        context = self.get_context_data(form=self.form)
        if not self.form.is_valid():
            return self.render_to_response(context, status=400)
        dashboard = Dashboard(self.form.filters(), now=timezone.now())
        media_effect = dashboard.media_effect()
        daily = dashboard.daily()
        query = urlencode(
            [(key, value) for key, value in request.GET.items() if key in FILTERS]
        )
        context.update(
            dashboard=dashboard,
            filters=dashboard.filters,
            headline=dashboard.headline(),
            callbacks=dashboard.callbacks(),
            departments=dashboard.departments(),
            media_effect=media_effect,
            first_time_callers=dashboard.first_time_callers(),
            media_groups=[
                (_("Reported in the paper"), media_effect.reported),
                (_("Not reported"), media_effect.unreported),
            ]
            if media_effect
            else [],
            min_sample=min_sample(),
            daily=daily[:DAILY_ROWS_SHOWN],
            daily_total=len(daily),
            daily_counters=daily_counter_labels(),
            exports=[
                (
                    label,
                    reverse(
                        f"{STATISTICS_URL_NAMESPACE}:export",
                        kwargs={"table": table, "fmt": fmt},
                    )
                    + (f"?{query}" if query else ""),
                )
                for table, fmt, label in EXPORT_LINKS
            ],
        )
        return self.render_to_response(context)

    def render_to_response(self, context, status=200, **kwargs):
        response = super().render_to_response(context, **kwargs)
        response.status_code = status
        return response


def daily_counter_labels() -> list[str]:
    return [str(CaseDay._meta.get_field(name).verbose_name) for name in DAILY_COUNTERS]


EXPORT_LINKS = (
    ("departments", "csv", gettext_lazy("Departments (CSV)")),
    ("departments", "xlsx", gettext_lazy("Departments (Excel)")),
    ("daily", "csv", gettext_lazy("Daily figures (CSV)")),
    ("daily", "xlsx", gettext_lazy("Daily figures (Excel)")),
)


class StatisticsExportView(View):
    """The department table or the daily rows of the current filters, as CSV or
    Excel (``table`` and ``fmt`` come from the URL pattern)."""

    http_method_names = ["get"]

    def get(self, request, table: str, fmt: str):
        if not may_see_statistics(request.user):
            return HttpResponseForbidden(
                refusal(), content_type="text/plain; charset=utf-8"
            )
        form = bound_form(request)
        if not form.is_valid():
            message = " ".join(
                str(error) for errors in form.errors.values() for error in errors
            )
            return HttpResponse(
                message, status=400, content_type="text/plain; charset=utf-8"
            )
        dashboard = Dashboard(form.filters(), now=timezone.now())
        headers, rows = TABLES[table](dashboard)
        rates = RATE_COLUMNS if table == "departments" else ()
        period = dashboard.period
        filename = f"statistics-{table}-{period.start:%Y%m%d}-{period.end:%Y%m%d}"
        if fmt == "csv":
            response = HttpResponse(
                as_csv(headers, rows, rates), content_type="text/csv; charset=utf-8"
            )
        else:
            title = _("Departments") if table == "departments" else _("Daily figures")
            response = HttpResponse(
                as_xlsx(title, headers, rows, rates), content_type=XLSX_TYPE
            )
        response["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
        return response
