"""The partners' demo data: masters with disabilities, itemised records, a
flagged partner, a home-visit campaign of 20-odd households with verdicts,
suggestions and follow-up work, photos of two visit days; loading it twice
changes nothing."""

import pytest

from tests.factories import officer, supervisor
from tracking.models import Callback
from tracking.partners import demo
from tracking.partners.models import (
    CommunityVisitPhoto,
    HomeVisit,
    HomeVisitSample,
    Partner,
    PartnerFlag,
    PartnerFollowUp,
    ServiceOrder,
)

pytestmark = pytest.mark.django_db


def rows():
    return (
        ServiceOrder.objects.count(),
        HomeVisitSample.objects.count(),
        list(
            HomeVisit.objects.order_by("pk").values_list(
                "citizen_id", "outcome", "satisfied", "suggestions"
            )
        ),
        PartnerFollowUp.objects.count(),
        CommunityVisitPhoto.objects.count(),
        Callback.objects.count(),
    )


def test_the_demo_loads_once(calendar_2026):
    officer(username="officer")
    supervisor(username="supervisor")
    # Two demo titles are load_demo's.
    assert demo.load() == len(demo.ORDERS) - 2 + len(demo.SERVED)
    assert Partner.objects.filter(master_has_disability=True).count() >= 3
    record = ServiceOrder.objects.get(case__title="卫生间漏水到楼下")
    assert record.lines.count() == 5 and record.rating == 5
    assert list(Partner.objects.flagged().values_list("name", flat=True)) == [
        "光明开锁换锁"
    ]
    assert PartnerFlag.objects.count() == 1

    campaign = HomeVisitSample.objects.with_figures().get()
    assert campaign.seed == demo.DEMO_SEED and campaign.visits_count >= 20
    assert campaign.done_count == len(demo.VERDICTS)
    assert campaign.unreachable_count == demo.UNREACHABLE
    assert campaign.declined_count == demo.DECLINED
    assert campaign.satisfied_count == sum(s for s, _ in demo.VERDICTS)
    assert campaign.suggestions_count == sum(bool(t) for _, t in demo.VERDICTS)
    follow_up = PartnerFollowUp.objects.get()
    assert follow_up.visit.suggestions and follow_up.done_at is None
    assert follow_up.partner == follow_up.visit.order.partner
    photos = CommunityVisitPhoto.objects.select_related("visit")
    assert sorted(p.visit.community for p in photos) == sorted(
        community for community, _, _ in demo.PHOTOS
    )
    assert all(p.caption for p in photos)

    before = rows()
    assert demo.load() == 0
    assert rows() == before


def test_the_demo_without_a_supervisor_has_no_campaign(calendar_2026):
    officer(username="officer")
    demo.load()
    assert not HomeVisitSample.objects.exists()
