"""The back office names people by their display name, not their login."""

import pytest

from tests.factories import (
    CallbackFactory,
    CaseFactory,
    EventFactory,
    ResponseFactory,
    officer,
    supervisor,
)
from tracking.models import Call

CASES_URL = "/admin/tracking/cases/"


@pytest.mark.django_db
def test_the_case_page_names_who_recorded_what_by_their_display_name(client):
    recorder = officer(username="wang.officer", first_name="王", last_name="晓")
    viewer = supervisor()
    case = CaseFactory(state="replied")
    ResponseFactory(case=case, recorded_by=recorder)
    CallbackFactory(case=case, recorded_by=recorder)
    EventFactory(case=case, actor=recorder, action="accept")
    Call.objects.create(case=case, operator=recorder, caller_phone="13905310001")

    client.force_login(viewer)
    html = client.get(f"{CASES_URL}{case.pk}/").content.decode()

    assert html.count("王 晓") >= 4  # response, callback, timeline, call log
    assert "wang.officer" not in html
