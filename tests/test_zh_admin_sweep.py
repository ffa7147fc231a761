"""The Chinese back office is Chinese: no English left on the screens the roles use.

Every demo role opens the admin screens of its daily work in zh-hans; the text of
each page (tags, scripts, styles and attributes stripped) may hold no run of ASCII
words (two letters or more) other than the few proper names and codes allowed
below. A failure lists every run with the text around it, so the missing msgid
or the English name stored in the database shows at once.
"""

from __future__ import annotations

import json
import re
from datetime import date
from html.parser import HTMLParser

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction
from django.utils import translation

# Proper names, codes and the like that may stay in Latin letters; each says why.
ALLOWED = [
    r"8890 News\+",  # the site's name (WAGTAIL_SITE_NAME)
    r"\bWagtail(?: \d+\.\d+(?:\.\d+)*)?",  # the CMS's name, with its version
    r"https?://\S+",  # URLs
    r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+",  # e-mail addresses
    r"(?<![A-Za-z])(?:CSV|XLSX|Excel)(?![A-Za-z])",  # file formats of the exports
    r"(?<![A-Za-z])(?:API|Open311|URL)(?![A-Za-z])",  # interfaces
    r"\bchinesecalendar\b",  # the package a calendar row came from (a code)
    r"\bmanage\.py [a-z_]+",  # a command to run
    r"\bEnglish\b",  # the language's own name in the language picker
    r"\b(?:Ctrl|Alt|Shift|Esc)\b",  # key caps in the keyboard shortcuts dialog
    r"“all”",  # a value to type into the statistics period field
]
ALLOWED_RE = re.compile("|".join(f"(?:{pattern})" for pattern in ALLOWED))
# Words of two letters or more, with what joins them into one phrase.
RUN_RE = re.compile(r"[A-Za-z][A-Za-z']+(?:[\s\-.,:;/()'’]+[A-Za-z][A-Za-z']*)*")


class _Text(HTMLParser):
    """The text a reader sees: no script, style, or <noscript> (the noscript
    notice has a test of its own, below), and no
    <option> whose text is its value (time zones, codes)."""

    SKIP = {"script", "style", "noscript"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0
        self._option_value: str | None = None

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self._skip += 1
        self._option_value = dict(attrs).get("value") if tag == "option" else None

    def handle_endtag(self, tag):
        if tag in self.SKIP and self._skip:
            self._skip -= 1
        self._option_value = None

    def handle_data(self, data):
        if self._skip or (self._option_value and data.strip() == self._option_value):
            return
        self.parts.append(data)


# Between the texts of two elements: a run of words never spans it.
SEPARATOR = " ¦ "


# Wagtail writes a side panel's hidden counter as "None" until its script counts.
UNCOUNTED = re.compile(r"(<div data-side-panel-toggle-counter[^>]*>)\s*None\s*(</div>)")


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(UNCOUNTED.sub(r"\1\2", html))
    return SEPARATOR.join(
        text for part in parser.parts if (text := re.sub(r"\s+", " ", part).strip())
    )


def english_runs(html: str) -> list[tuple[str, str]]:
    """Each run of ASCII words not allowed, with 25 characters around it."""
    text = ALLOWED_RE.sub(" ", visible_text(html))
    found = {}
    for match in RUN_RE.finditer(text):
        around = text[max(0, match.start() - 25) : match.end() + 25]
        found.setdefault(match.group(0), around)
    return list(found.items())


# --- the demo, once for the module --------------------------------------------------


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The demo site (load_demo), rolled back after the module."""
    from newsroom.models import HotTrackingPage
    from tracking.models import Case

    with django_db_blocker.unblock(), transaction.atomic():
        with translation.override("zh-hans"):
            call_command("load_demo", verbosity=0)
        story = HotTrackingPage.objects.filter(live=True).order_by("pk").first()
        supervised = Case.objects.filter(state="supervised").first()
        yield {
            "case": Case.objects.order_by("pk").first().pk,
            "supervised": (supervised or Case.objects.first()).pk,
            "story": story.pk,
            "column": story.get_parent().pk,
        }
        transaction.set_rollback(True)


# (role, screen name, URL template); {case}, {story}… come from the demo fixture.
SCREENS = [
    ("officer", "dashboard", "/admin/"),
    ("officer", "case listing", "/admin/tracking/cases/"),
    ("officer", "case listing filtered", "/admin/tracking/cases/?state=accepted"),
    ("officer", "case listing searched", "/admin/tracking/cases/?q=路"),
    ("officer", "case page", "/admin/tracking/cases/{case}/"),
    ("officer", "case registration", "/admin/tracking/cases/new/"),
    ("officer", "call listing", "/admin/tracking/calls/"),
    ("officer", "call form", "/admin/tracking/calls/new/"),
    ("officer", "statistics", "/admin/tracking/statistics/"),
    ("officer", "calendar", "/admin/tracking/calendar/"),
    ("officer", "account", "/admin/account/"),
    ("supervisor", "dashboard", "/admin/"),
    ("supervisor", "case listing", "/admin/tracking/cases/"),
    ("supervisor", "case listing overdue", "/admin/tracking/cases/?overdue=true"),
    ("supervisor", "case page", "/admin/tracking/cases/{supervised}/"),
    ("supervisor", "statistics", "/admin/tracking/statistics/"),
    ("supervisor", "calendar", "/admin/tracking/calendar/"),
    ("supervisor", "partners", "/admin/partners/partners/"),
    ("supervisor", "partners flagged", "/admin/partners/partners/?flagged=true"),
    ("supervisor", "service orders", "/admin/partners/orders/"),
    ("supervisor", "partner flags", "/admin/partners/flags/"),
    ("officer", "new service order", "/admin/partners/orders/new/"),
    ("traffic", "dashboard", "/admin/"),
    ("traffic", "case listing", "/admin/tracking/cases/"),
    ("traffic", "account", "/admin/account/"),
    ("editor", "dashboard", "/admin/"),
    ("editor", "page explorer", "/admin/pages/{column}/"),
    ("editor", "story edit", "/admin/pages/{story}/edit/"),
    ("editor", "page history", "/admin/pages/{story}/history/"),
    ("editor", "workflow history", "/admin/pages/{story}/workflow_history/"),
    ("editor", "search", "/admin/pages/search/?q=路"),
    ("editor", "account", "/admin/account/"),
    ("chief", "dashboard", "/admin/"),
    ("chief", "page explorer", "/admin/pages/{column}/"),
    ("chief", "story edit", "/admin/pages/{story}/edit/"),
    ("chief", "workflow history", "/admin/pages/{story}/workflow_history/"),
    ("chief", "site history", "/admin/reports/site-history/"),
]


def _params():
    for role, name, url in SCREENS:
        yield pytest.param(role, url, id=f"{role}-{name}")


@pytest.mark.django_db
@pytest.mark.parametrize(("role", "url"), list(_params()))
def test_the_screen_speaks_chinese(client, demo, role, url):
    client.force_login(get_user_model().objects.get(username=role))

    response = client.get(url.format(**demo), HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert response.status_code == 200, response.status_code
    runs = english_runs(response.content.decode())
    assert not runs, "English on the screen:\n" + "\n".join(
        f"  {run!r}  in  …{around}…" for run, around in runs
    )


@pytest.mark.django_db
def test_the_sweep_catches_english():
    html = (
        "<html><head><title>诉求 - Wagtail</title><style>.a{color:red}</style></head>"
        "<body><script>var x = 'Hello world';</script>"
        '<p title="Tooltip text">8890 News+ 工单 8890-20261203-00001</p>'
        "<p>Go to the first error，登记人：officer</p>"
        '<select><option value="Asia/Shanghai">Asia/Shanghai</option>'
        '<option value="1">Any</option></select>'
        "<p>导出（CSV） https://example.org/a-b 联系 a@8890.invalid</p></body></html>"
    )

    runs = english_runs(html)

    assert [run for run, _ in runs] == ["Go to the first error", "officer", "Any"]


@pytest.mark.django_db
def test_the_javascript_catalogue_speaks_chinese(client, demo):
    """Wagtail's admin scripts translate through its JavaScript catalogue
    (jsi18n); the strings the editors' screens show must be in it."""
    client.force_login(get_user_model().objects.get(username="editor"))

    response = client.get("/admin/jsi18n/", HTTP_ACCEPT_LANGUAGE="zh-hans")

    # The catalogue is JSON in the script, non-ASCII letters escaped.
    script = response.content.decode()
    for msgid, chinese in JS_STRINGS.items():
        assert f"{json.dumps(msgid)}: {json.dumps(chinese)}" in script, msgid


# Strings of Wagtail's admin scripts (its djangojs catalogue) that its zh_Hans
# translation lacks and that editors meet on the page editor (autosave, checks).
JS_STRINGS = {
    "Autosave in progress…": "正在自动保存…",
    "Changes have been autosaved.": "更改已自动保存。",
    "A network error occurred.": "发生网络错误。",
    "Good": "好",
    "Complex": "复杂",
}


@pytest.mark.django_db
def test_the_noscript_notice_speaks_chinese(client, demo):
    client.force_login(get_user_model().objects.get(username="officer"))

    html = client.get("/admin/").content.decode()

    assert "JavaScript is required to use Wagtail" not in html


# --- names stored in the database ------------------------------------------------


def _migration(app: str, name: str):
    import importlib

    return importlib.import_module(f"{app}.migrations.{name}")


def test_role_groups_go_by_the_install_language_whatever_the_request_speaks(
    monkeypatch,
):
    from tracking import roles

    monkeypatch.setattr(
        roles.translation, "gettext", lambda key: f"{translation.get_language()}:{key}"
    )
    with translation.override("en"):
        name = str(roles.EDITORS)

    assert name == "zh-hans:Editors"


@pytest.mark.django_db
def test_the_role_groups_are_renamed_to_their_stored_names_and_back(monkeypatch):
    from django.apps import apps
    from django.contrib.auth.models import Group

    from tracking import roles

    migration = _migration("tracking", "0020_chinese_names")
    Group.objects.filter(name=roles.EDITORS).update(name=roles.EDITORS_KEY)
    monkeypatch.setattr(roles, "group_name", lambda key: f"新{key}")

    migration.rename_groups(apps, None)
    assert Group.objects.filter(name="新Editors").exists()
    assert not Group.objects.filter(name="Editors").exists()

    migration.restore_groups(apps, None)
    assert Group.objects.filter(name="Editors").exists()


@pytest.mark.django_db
def test_holidays_stored_in_english_get_their_chinese_names():
    from django.apps import apps

    from tracking.models import WorkingCalendar

    migration = _migration("tracking", "0020_chinese_names")
    WorkingCalendar.objects.create(
        date=date(2031, 1, 23), name="spring  festival", is_workday=False
    )
    WorkingCalendar.objects.create(
        date=date(2031, 2, 8), name="Spring Festival", is_workday=True
    )
    WorkingCalendar.objects.create(
        date=date(2031, 3, 1), name="Company outing", is_workday=False
    )

    migration.chinese_holiday_names(apps, None)

    names = dict(
        WorkingCalendar.objects.filter(date__year=2031).values_list("date", "name")
    )
    assert names == {
        date(2031, 1, 23): "春节",
        date(2031, 2, 8): "春节调休上班",
        date(2031, 3, 1): "Company outing",
    }


@pytest.mark.django_db
def test_workflows_and_tasks_are_renamed_to_the_install_language_and_back(
    monkeypatch,
):
    from django.apps import apps
    from wagtail.models import Task, Workflow

    migration = _migration("newsroom", "0010_chinese_names")
    monkeypatch.setattr(
        migration, "_translated", lambda names: [(n, f"中{n}") for n in names]
    )
    Workflow.objects.create(name="Editorial review")
    Task.objects.create(name="Chief editor approval")

    migration.rename(apps, None)
    assert Workflow.objects.filter(name="中Editorial review").exists()
    assert Task.objects.filter(name="中Chief editor approval").exists()
    assert not Workflow.objects.filter(name="Editorial review").exists()

    migration.restore(apps, None)
    assert Workflow.objects.filter(name="Editorial review").exists()
    assert Task.objects.filter(name="Chief editor approval").exists()
