"""Photos of community visit days (社区月月进): kept as an orderable of Wagtail
images with a caption, edited in the visit's admin form; the column shows those
of past visits (renditions, the caption or the place as the alternative text,
redacted), never those of a day still ahead, in a fixed number of queries."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from bs4 import BeautifulSoup
from django.db import connection
from django.test.utils import CaptureQueriesContext
from wagtail.images.models import Image
from wagtail.images.tests.utils import get_test_image_file

from tests.factories import aware, supervisor
from tracking.partners.models import CommunityVisit, CommunityVisitPhoto

from .test_admin import client_for
from .test_community_visits import fetch, form_data, path, visit

pytestmark = pytest.mark.django_db

NOW = aware(2026, 6, 11, 7, 30)
TODAY = date(2026, 6, 11)
VISITS_URL = "/admin/partners/community-visits/"


@pytest.fixture(autouse=True)
def frozen_now():
    with time_machine.travel(NOW, tick=True):
        yield


def image(title="社区月月进") -> Image:
    return Image.objects.create(title=title, file=get_test_image_file())


def photo(visit_day, caption="", position=0):
    return CommunityVisitPhoto.objects.create(
        visit=visit_day, image=image(), caption=caption, sort_order=position
    )


def photos_of(response) -> list[dict]:
    soup = BeautifulSoup(response.content.decode(), "html.parser")
    return [
        {"alt": img["alt"], "src": img["src"], "place": li.select_one(".place").text}
        for li in soup.select("section.community-visits li.visit")
        for img in li.select(".visit-photos img")
    ]


def test_past_visits_show_their_photos_with_captions_or_the_place(client, column):
    past = visit(date(2026, 6, 1), "香格里拉小区", district="城区", people_served=900)
    photo(past, caption="便民服务队修家电", position=0)
    photo(past, caption="", position=1)
    ahead = visit(TODAY + timedelta(days=5), "金色港湾小区")
    photo(ahead, caption="还没到的一天")

    shown = photos_of(fetch(client, path(column)))

    assert [p["alt"] for p in shown] == ["便民服务队修家电", "城区 香格里拉小区"]
    assert all(p["place"] == "城区 香格里拉小区" for p in shown)
    # Renditions, not the originals.
    assert all(
        "/images/" in p["src"] and "original_images" not in p["src"] for p in shown
    )
    assert "还没到的一天" not in fetch(client, path(column)).content.decode()


def test_a_caption_with_personal_data_is_redacted(client, column):
    past = visit(date(2026, 6, 1), "香格里拉小区", people_served=900)
    photo(past, caption="王女士13912345678家的热水器修好了")
    text = fetch(client, path(column)).content.decode()
    assert "13912345678" not in text
    assert photos_of(fetch(client, path(column)))


def test_the_photos_take_a_fixed_number_of_queries(column):
    from newsroom.selectors import community_visits

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            visits = community_visits([])
        assert visits
        return len(captured)

    first = visit(date(2026, 6, 1), "香格里拉小区")
    photo(first, caption="一")
    community_visits([])  # the renditions are made once, on first reading
    few = queries()
    for n in range(6):
        more = visit(date(2026, 5, 1) + timedelta(days=n), f"小区{n}")
        photo(more, caption=f"照片{n}")
        photo(more, caption=f"另一张{n}", position=1)
        visit(TODAY + timedelta(days=n + 1), f"村{n}")
    community_visits([])
    assert queries() == few == 5
    shown = community_visits([]).past
    assert sum(len(v.photos) for v in shown) == 13


def test_a_supervisor_adds_photos_in_the_visit_form():
    picture = image("广场")
    client = client_for(supervisor())
    data = {
        **form_data(),
        "visit_photos-TOTAL_FORMS": "1",
        "visit_photos-0-image": str(picture.pk),
        "visit_photos-0-caption": "居民排队咨询",
        "visit_photos-0-ORDER": "1",
        "visit_photos-0-id": "",
        "visit_photos-0-DELETE": "",
    }
    response = client.post(f"{VISITS_URL}new/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    made = CommunityVisit.objects.get()
    (kept,) = made.visit_photos.all()
    assert kept.image == picture and kept.caption == "居民排队咨询"
    assert client.get(f"{VISITS_URL}edit/{made.pk}/").status_code == 200


def test_a_photo_saved_or_deleted_on_its_own_shows_on_the_cached_column(
    client, column, django_capture_on_commit_callbacks
):
    past = visit(TODAY - timedelta(days=7), "锦绣江南小区", people_served=900)
    url = path(column)
    fetch(client, url)
    assert fetch(client, url)["X-Page-Cache"] == "hit"

    with django_capture_on_commit_callbacks(execute=True):
        added = photo(past, caption="便民服务队修家电")
    assert [p["alt"] for p in photos_of(fetch(client, url))] == ["便民服务队修家电"]

    fetch(client, url)
    with django_capture_on_commit_callbacks(execute=True):
        added.delete()
    assert photos_of(fetch(client, url)) == []
