"""The donations demo: the article's two donations (梅爷爷's medicine, confirmed
first; 赵先生's nursing bed for 陈大爷) and the other steps; loading it twice
changes nothing."""

import pytest
from django.test import Client

from tests.factories import officer
from tracking.donations import demo
from tracking.donations.models import DonationEvent, DonationOffer, DonationStatus
from tracking.models import Case

pytestmark = pytest.mark.django_db


def test_the_demo_loads_once(calendar_2026):
    assert demo.load() == 0  # no demo officer yet: nothing made
    officer(username="officer")
    assert demo.load() == len(demo.DONATIONS)
    medicine = DonationOffer.objects.get(donor__name="梅爷爷")
    assert medicine.needs_confirmation and medicine.confirmation.approved
    assert medicine.status == DonationStatus.HANDED_OVER
    bed = DonationOffer.objects.get(item="多功能护理床")
    assert bed.donor.name == "赵先生"
    assert bed.match.case.citizen.name == "陈大爷"
    assert "帕金森" in bed.match.case.description
    statuses = set(DonationOffer.objects.values_list("status", flat=True))
    assert DonationStatus.WITHDRAWN in statuses
    assert DonationOffer.objects.awaiting_confirmation().count() == 1

    counts = (DonationOffer.objects.count(), DonationEvent.objects.count())
    cases = Case.objects.count()
    assert demo.load() == 0
    assert (DonationOffer.objects.count(), DonationEvent.objects.count()) == counts
    assert Case.objects.count() == cases

    body = Client().get("/donations/").content.decode()
    assert "多功能护理床" in body and "梅爷爷" not in body and "陈大爷" not in body
