"""Demo donations (called by ``load_demo``; idempotent).

The source article's two donations: 梅爷爷 gave away the medicine his late wife
left, worth more than ten thousand yuan (prescription medicine: confirmed by an
officer first), and 赵先生, his leg healed, gave his multi-function nursing bed
to 陈大爷, who has Parkinson's. A few more show the other steps: one waiting for
a confirmation, one matched and on its way, one waiting for a recipient, one
withdrawn. Phone numbers are made up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from .. import services as case_services
from ..models import Case, Kind
from . import services
from .models import DonationOffer, ItemCategory, ItemCondition

CitizenData = case_services.CitizenData


@dataclass
class DemoRecipient:
    title: str
    description: str
    citizen: CitizenData


@dataclass
class DemoDonation:
    item: str
    category: str
    condition: str
    quantity: int
    unit: str
    district: str
    donor: CitizenData
    days_ago: int
    confirm: str = ""  # the officer's reason; "" when no confirmation is made
    recipient: DemoRecipient | None = None
    hand_over: str | None = None  # the hand-over note; None: not handed over
    withdraw: str = ""  # the reason the donor took the offer back


DONATIONS = [
    DemoDonation(
        "老伴留下的降压药、降糖药等常用药（价值上万元）",
        ItemCategory.PRESCRIPTION_MEDICINE,
        ItemCondition.NEW,
        1,
        "批",
        "城区",
        CitizenData("梅爷爷", "13905330001", "香格里拉小区5号楼102室"),
        days_ago=60,
        confirm="药品均未开封、在有效期内，经社区医生逐一核对，转赠时附说明并提醒遵医嘱。",
        recipient=DemoRecipient(
            "慢性病常用药负担重，求助",
            "老人患高血压、糖尿病多年，每月药费负担重，希望得到帮助。",
            CitizenData("孙大妈", "13905330101", "锦绣江南小区8号楼201室"),
        ),
        hand_over="社区医生在场，按处方核对后交给孙大妈家属。",
    ),
    DemoDonation(
        "多功能护理床",
        ItemCategory.MEDICAL_AID,
        ItemCondition.GOOD,
        1,
        "张",
        "开发区",
        CitizenData("赵先生", "13905330002", "龙域天城小区12号楼1单元602室"),
        days_ago=40,
        recipient=DemoRecipient(
            "帕金森综合征老人需要护理床",
            "陈大爷身患帕金森综合征，长期卧床，家里需要一张护理床。",
            CitizenData("陈大爷", "13905330102", "金色港湾小区3号楼101室"),
        ),
        hand_over="加盟商帮忙搬运安装，陈大爷家人签收。",
    ),
    DemoDonation(
        "胰岛素注射笔芯",
        ItemCategory.PRESCRIPTION_MEDICINE,
        ItemCondition.NEW,
        10,
        "支",
        "城区",
        CitizenData("钱女士", "13905330003", "九铃华府小区2号楼"),
        days_ago=3,
    ),
    DemoDonation(
        "助行器",
        ItemCategory.MEDICAL_AID,
        ItemCondition.GOOD,
        1,
        "个",
        "舟山镇",
        CitizenData("周先生", "13905330004", "舟山镇新楼村"),
        days_ago=10,
        recipient=DemoRecipient(
            "腿脚不便的老人出门困难",
            "老人腿脚不便，出门买菜困难，希望有一个助行器。",
            CitizenData("吴奶奶", "13905330103", "安居苑小区4号楼"),
        ),
    ),
    DemoDonation(
        "儿童冬衣",
        ItemCategory.CLOTHING,
        ItemCondition.GOOD,
        12,
        "件",
        "城区",
        CitizenData("郑女士", "13905330005", "大花园村"),
        days_ago=5,
    ),
    DemoDonation(
        "轮椅",
        ItemCategory.MEDICAL_AID,
        ItemCondition.WORN,
        1,
        "辆",
        "开发区",
        CitizenData("王先生", "13905330006", "锦绣江南小区"),
        days_ago=20,
        withdraw="家中老人又需要用轮椅，捐赠人收回。",
    ),
]


def _recipient_case(recipient: DemoRecipient, user, at) -> Case:
    case = Case.objects.filter(title=recipient.title, kind=Kind.HELP).first()
    if case is not None:
        return case
    call = case_services.call_register(
        user=user,
        caller_phone=recipient.citizen.phone,
        outcome="answered",
        note=recipient.title,
        duration_seconds=150,
        received_at=at - timedelta(minutes=5),
    )
    case = case_services.case_register(
        call=call,
        kind=Kind.HELP,
        title=recipient.title,
        description=recipient.description,
        citizen=recipient.citizen,
        user=user,
        now=at,
    )
    return case_services.case_accept(case=case.pk, user=user, now=at)


def _donation(demo: DemoDonation, user, now) -> bool:
    if DonationOffer.objects.filter(
        item=demo.item, donor__phone=demo.donor.phone
    ).exists():
        return False
    at = now - timedelta(days=demo.days_ago)
    offer = services.donation_offer_create(
        item=demo.item,
        category=demo.category,
        condition=demo.condition,
        quantity=demo.quantity,
        unit=demo.unit,
        district=demo.district,
        pickup_address=demo.donor.address,
        donor=demo.donor,
        user=user,
        now=at,
    )
    if demo.confirm:
        services.donation_confirm(
            offer=offer,
            approve=True,
            reason=demo.confirm,
            user=user,
            now=at + timedelta(hours=4),
        )
    if demo.recipient is not None:
        case = _recipient_case(demo.recipient, user, at - timedelta(days=2))
        services.donation_match(
            offer=offer, case=case, user=user, now=at + timedelta(days=1)
        )
        if demo.hand_over is not None:
            services.donation_hand_over(
                offer=offer, note=demo.hand_over, user=user, now=at + timedelta(days=3)
            )
    if demo.withdraw:
        services.donation_withdraw(
            offer=offer, reason=demo.withdraw, user=user, now=at + timedelta(days=2)
        )
    return True


def load(stdout=None) -> int:
    """Make the demo donations; returns the offers made."""
    user = get_user_model().objects.filter(username="officer").first()
    if user is None:
        if stdout:
            stdout.write("Donations demo skipped: no demo officer (run load_demo).")
        return 0
    now = timezone.now()
    with transaction.atomic():
        made = sum(_donation(demo, user, now) for demo in DONATIONS)
    if stdout:
        stdout.write(f"Donations demo ready ({made} new donation offers).")
    return made
