"""The partners' demo data: masters with disabilities, itemised records, a
flagged partner; loading it twice changes nothing."""

import pytest

from tests.factories import officer
from tracking.partners import demo
from tracking.partners.models import Partner, PartnerFlag, ServiceOrder

pytestmark = pytest.mark.django_db


def test_the_demo_loads_once(calendar_2026):
    officer(username="officer")
    assert demo.load() == len(demo.ORDERS) - 2  # two demo titles are load_demo's
    assert Partner.objects.filter(master_has_disability=True).count() >= 3
    record = ServiceOrder.objects.get(case__title="卫生间漏水到楼下")
    assert record.lines.count() == 5 and record.rating == 5
    assert list(Partner.objects.flagged().values_list("name", flat=True)) == [
        "光明开锁换锁"
    ]
    assert PartnerFlag.objects.count() == 1
    assert demo.load() == 0
    assert ServiceOrder.objects.count() == len(demo.ORDERS) - 2
