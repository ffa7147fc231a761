"""The demo data: every state on show, the real stories, idempotent."""

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command

from cms.management.commands import _demo_history as demo_history
from newsroom.models import FollowUpPage, HotTrackingPage
from tracking.models import Call, Case, State
from tracking.statistics import rollups
from tracking.statistics.figures import Report


@pytest.mark.django_db
def test_load_demo_shows_every_state_and_the_real_stories_and_runs_twice():
    call_command("load_demo", verbosity=0)
    cases = Case.objects.count()
    pages = HotTrackingPage.objects.count()

    assert set(Case.objects.values_list("state", flat=True)) == set(State.values)
    wuhu = HotTrackingPage.objects.get(case__title__startswith="五湖路")
    jinsheng = HotTrackingPage.objects.get(case__title__startswith="金胜路")
    assert wuhu.live and jinsheng.live
    assert wuhu.case.state == State.CLOSED
    assert FollowUpPage.objects.child_of(wuhu).live().exists()
    assert Case.objects.overdue().exists()
    # Every case came in by phone and keeps its call; a caller who called again
    # (the blocked fire lane, reported twice) is one citizen with two cases.
    assert Call.objects.filter(case__isnull=False).count() == cases
    merged = Case.objects.get(state=State.MERGED)
    assert merged.citizen == merged.duplicate_of.citizen
    calls = Call.objects.count()
    # The demo's figures were counted as it was made, and agree with its rows.
    assert rollups.differences(rollups.stored(), rollups.computed()) == []
    headline = Report().headline()
    assert headline.calls == calls
    assert headline.registered == cases
    # Three years of history came with it, at the default scale: the article's
    # figures, the hand-made cases included.
    targets = demo_history.Targets.of(demo_history.DEFAULT_SCALE)
    assert calls == targets.calls
    assert headline.accepted == targets.accepted
    assert headline.busiest_day_calls == targets.busiest_day

    call_command("load_demo", verbosity=0)
    assert Case.objects.count() == cases
    assert HotTrackingPage.objects.count() == pages
    assert Call.objects.count() == calls

    for username in ("officer", "supervisor", "traffic", "editor", "chief", "admin"):
        assert authenticate(username=username, password="8890demo") is not None
