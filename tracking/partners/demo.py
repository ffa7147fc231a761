"""Demo partners and service orders (called by ``load_demo``; idempotent).

Partners as the source article has them: 20-odd service providers, several of
them masters with a disability employed through the platform, and the
waterproofing master whose service record now lists every material (一目了然).
Orders go to the demo's help requests, and to a few help requests of their own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal
from io import BytesIO

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from .. import services as case_services
from ..calendar import local_zone
from ..models import Case, Kind, State
from . import services
from .models import (
    CommunityVisit,
    CommunityVisitPhoto,
    HomeVisit,
    HomeVisitSample,
    LineKind,
    Partner,
    ServiceTeam,
    Trade,
    VisitOutcome,
)
from .services import LineData

# name, trades, area, joined (days ago), master with a disability, contact
PARTNERS = [
    ("应师傅防水", ["防水"], "城区", 900, False, ("应周杨", "13905320001")),
    ("巧手水电维修", ["水电维修"], "城区、开发区", 1000, True, ("李建", "13905320002")),
    ("光明开锁换锁", ["开锁"], "城区", 600, True, ("王亮", "13905320003")),
    ("暖心搬运安装", ["搬运", "家具安装"], "全市", 400, False, ("赵刚", "13905320004")),
    ("匠心家电维修", ["家电维修"], "城区", 300, True, ("陈伟", "13905320005")),
]

M, L = LineKind.MATERIAL, LineKind.LABOUR


@dataclass
class DemoOrder:
    case_title: str
    partner: str
    days_ago: int  # the appointment's day, before today (negative: ahead)
    window: tuple[int, int] = (9, 11)
    lines: list[tuple] = field(default_factory=list)
    service_done: str = ""
    late_minutes: int | None = None  # completed this long after the window ends
    rating: int | None = None
    comment: str = ""


# Help requests the demo adds for its partners: title, description, citizen.
OWN_CASES = [
    (
        "卫生间漏水到楼下",
        "卫生间防水层老化，洗澡后楼下天花板渗水。",
        case_services.CitizenData("周桂英", "13905320101", "金色港湾小区2号楼301"),
    ),
    (
        "家门钥匙丢失，老人进不了门",
        "老人外出回来钥匙丢了，进不了家门。",
        case_services.CitizenData("吴老伯", "13905320102", "安居苑小区6号楼"),
    ),
    (
        "防盗门锁芯坏了",
        "防盗门锁芯转不动，希望尽快换锁。",
        case_services.CitizenData("郑阿姨", "13905320103", "龙域天城小区"),
    ),
    (
        "单元门锁坏了关不上",
        "单元门的锁坏了，晚上关不上，不安全。",
        case_services.CitizenData("冯先生", "13905320104", "九铃华府小区"),
    ),
]

ORDERS = [
    DemoOrder(
        "卫生间漏水到楼下",
        "应师傅防水",
        6,
        lines=[
            (M, "聚氨酯防水涂料", "千克", "6", "28.00"),
            (M, "防水卷材", "米", "4.5", "33.00"),
            (M, "堵漏王", "千克", "1.5", "12.00"),
            (L, "拆除旧砖、铺设防水层", "小时", "5", "60.00"),
            (L, "闭水试验", "次", "1", "0.00"),
        ],
        service_done="拆除卫生间地砖，重做防水层，闭水试验48小时无渗漏后恢复地砖。",
        rating=5,
        comment="每项材料都写得清清楚楚，放心。",
    ),
    DemoOrder(
        "自来水水压低，高层住户用水困难",
        "巧手水电维修",
        0,
        window=(8, 10),
        lines=[
            (M, "家用增压泵", "台", "1", "458.00"),
            (M, "PPR水管 25mm", "米", "3.5", "9.80"),
            (L, "安装调试", "小时", "1.5", "80.00"),
        ],
        service_done="为12楼住户加装增压泵，用水恢复正常；总管压力问题已转供水部门。",
        rating=4,
    ),
    DemoOrder("捐赠护理床给有需要的家庭", "暖心搬运安装", -2, window=(14, 16)),
    DemoOrder(
        "家门钥匙丢失，老人进不了门",
        "光明开锁换锁",
        40,
        lines=[(L, "上门开锁", "次", "1", "50.00")],
        service_done="核实身份后开锁。",
        late_minutes=90,
        rating=2,
        comment="等了很久。",
    ),
    DemoOrder(
        "防盗门锁芯坏了",
        "光明开锁换锁",
        20,
        lines=[(M, "C级锁芯", "个", "1", "180.00"), (L, "换锁", "次", "1", "40.00")],
        service_done="更换C级锁芯。",
        late_minutes=30,
        rating=1,
        comment="价格比说好的高。",
    ),
    DemoOrder(
        "单元门锁坏了关不上",
        "光明开锁换锁",
        5,
        lines=[
            (M, "单元门电控锁", "个", "1", "260.00"),
            (L, "安装", "次", "1", "60.00"),
        ],
        service_done="更换单元门电控锁。",
        rating=2,
        comment="态度一般。",
    ),
]


def _at(day, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=local_zone())


def _partners() -> dict[str, Partner]:
    today = timezone.localdate()
    result = {}
    for name, trades, area, joined, disabled, (contact, phone) in PARTNERS:
        partner, created = Partner.objects.get_or_create(
            name=name,
            defaults={
                "service_area": area,
                "joined_on": today - timedelta(days=joined),
                "master_has_disability": disabled,
                "contact_name": contact,
                "contact_phone": phone,
            },
        )
        if created:
            partner.trades.set(
                [Trade.objects.get_or_create(name=trade)[0] for trade in trades]
            )
        result[name] = partner
    return result


def _own_cases(user) -> None:
    now = timezone.now()
    for n, (title, description, citizen) in enumerate(OWN_CASES):
        if Case.objects.filter(title=title).exists():
            continue
        at = now - timedelta(days=45 - 10 * n)
        # Like every demo case, it came in by phone: its call is in the call log.
        call = case_services.call_register(
            user=user,
            caller_phone=citizen.phone,
            outcome="answered",
            note=title,
            duration_seconds=180,
            received_at=at - timedelta(minutes=5),
        )
        case = case_services.case_register(
            call=call,
            kind=Kind.HELP,
            title=title,
            description=description,
            citizen=citizen,
            user=user,
            now=at,
        )
        case_services.case_accept(case=case.pk, user=user, now=at)


def _order(demo: DemoOrder, partners, user) -> bool:
    case = (
        Case.objects.filter(title=demo.case_title, kind=Kind.HELP)
        .exclude(state__in=[State.REJECTED, State.WITHDRAWN, State.MERGED])
        .first()
    )
    if case is None or case.service_orders.exists():
        return False
    now = timezone.now()
    day = timezone.localdate() - timedelta(days=demo.days_ago)
    start, end = _at(day, demo.window[0]), _at(day, demo.window[1])
    with transaction.atomic():
        order = services.order_create(
            case=case,
            partner=partners[demo.partner],
            appointment_start=start,
            appointment_end=end,
            user=user,
            now=min(now, start - timedelta(days=1)),
        )
        if demo.service_done:
            done_at = (
                end + timedelta(minutes=demo.late_minutes)
                if demo.late_minutes
                else start + (end - start) / 2
            )
            done_at = min(done_at, now)
            services.order_record(
                order=order,
                lines=[
                    LineData(
                        kind=kind,
                        description=text,
                        unit=unit,
                        quantity=Decimal(quantity),
                        unit_price=Decimal(price),
                    )
                    for kind, text, unit, quantity, price in demo.lines
                ],
                service_done=demo.service_done,
                completed_at=done_at,
                user=user,
            )
            if demo.rating:
                services.order_rate(
                    order=order,
                    rating=demo.rating,
                    comment=demo.comment,
                    user=user,
                    now=min(done_at + timedelta(days=1), now),
                )
    return True


# The community visit days (社区月月进) of the article, in the current year: month,
# day, community, teams, partners, services, people served, what happened.
CONVENIENCE, WELLBEING = "便民服务队", "养生服务队"
VISITS = [
    (
        3,
        5,
        "香格里拉小区",
        [CONVENIENCE],
        ["巧手水电维修", "匠心家电维修"],
        "义务维修、家电清洗",
        1200,
        "两支服务队首次同场，小区广场上修家电、通下水道。",
    ),
    (
        4,
        9,
        "锦绣江南小区",
        [CONVENIENCE, WELLBEING],
        ["巧手水电维修", "光明开锁换锁", "匠心家电维修"],
        "义务维修、家电清洗、健康咨询",
        1350,
        "加盟商现场维修小家电，养生服务队量血压、讲养生。",
    ),
    (
        5,
        7,
        "龙域天城小区",
        [CONVENIENCE, WELLBEING],
        ["应师傅防水", "光明开锁换锁"],
        "义务维修、防水咨询、健康咨询",
        1400,
        "防水师傅讲解卫生间渗漏的预防，居民排队咨询。",
    ),
    (
        6,
        18,
        "九铃华府小区",
        [CONVENIENCE, WELLBEING],
        ["巧手水电维修", "暖心搬运安装", "匠心家电维修"],
        "义务维修、家电清洗、美食品尝",
        1500,
        "空调清洗最受欢迎，商会企业带来美食品尝。",
    ),
    (
        7,
        15,
        "金色港湾小区",
        [CONVENIENCE, WELLBEING],
        ["应师傅防水", "匠心家电维修"],
        "义务维修、健康咨询、文艺演出",
        1600,
        "傍晚的文艺演出吸引了不少居民，服务一直持续到天黑。",
    ),
    (
        8,
        14,
        "大花园村",
        [CONVENIENCE, WELLBEING],
        ["巧手水电维修", "光明开锁换锁", "暖心搬运安装"],
        "义务维修、家电清洗、健康咨询",
        1450,
        "服务队第一次走进村里，为村民修农用电器、测血糖。",
    ),
    (
        10,
        29,
        "安居苑小区",
        [CONVENIENCE, WELLBEING],
        ["应师傅防水", "巧手水电维修", "匠心家电维修"],
        "义务维修、家电清洗、健康咨询、文艺演出",
        1650,
        "今年第七次进社区，不少居民第一次拨通了8890。",
    ),
]
# When every visit of the article is behind: one more, next month.
NEXT_VISIT = ("东方小区", "义务维修、家电清洗、健康咨询")


def _visit(day, community, teams, partners, services, served, summary) -> bool:
    visit, created = CommunityVisit.objects.get_or_create(
        date=day,
        community=community,
        defaults={
            "services": services,
            "people_served": served,
            "summary": summary,
        },
    )
    if created:
        visit.teams.set(teams)
        visit.partners.set(partners)
    return created


def _visits(partners: dict[str, Partner]) -> int:
    """The article's seven visits this year, and one ahead if none is; a visit
    still ahead has no figure and no account yet."""
    today = timezone.localdate()
    teams = {
        name: ServiceTeam.objects.get_or_create(name=name)[0]
        for name in (CONVENIENCE, WELLBEING)
    }
    made = 0
    for (
        month,
        day,
        community,
        team_names,
        partner_names,
        offered,
        served,
        summary,
    ) in VISITS:
        date = today.replace(month=month, day=day)
        past = date <= today
        made += _visit(
            date,
            community,
            [teams[name] for name in team_names],
            [partners[name] for name in partner_names],
            offered,
            served if past else None,
            summary if past else "",
        )
    if not CommunityVisit.objects.filter(date__gt=today).exists():
        first_of_next = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
        community, offered = NEXT_VISIT
        made += _visit(
            first_of_next.replace(day=10),
            community,
            list(teams.values()),
            list(partners.values())[:3],
            offered,
            None,
            "",
        )
    return made


# --- a home-visit campaign (入户回访) -----------------------------------------------

# More households the partners served lately, so that the campaign has 20-odd to
# visit: surname, estate, what was wrong, partner, trade line, days ago.
SERVED = [
    ("孙", "香格里拉小区", "水龙头漏水", "巧手水电维修", "更换水龙头阀芯"),
    ("钱", "锦绣江南小区", "厨房下水道堵塞", "巧手水电维修", "疏通下水道"),
    ("李", "龙域天城小区", "空调不制冷", "匠心家电维修", "空调加氟清洗"),
    ("周", "九铃华府小区", "洗衣机不排水", "匠心家电维修", "更换排水泵"),
    ("吴", "金色港湾小区", "阳台渗水", "应师傅防水", "阳台补做防水"),
    ("郑", "安居苑小区", "入户门锁打不开", "光明开锁换锁", "维修门锁"),
    ("王", "东方小区", "衣柜需要安装", "暖心搬运安装", "组装衣柜"),
    ("冯", "大花园村", "电热水器不加热", "匠心家电维修", "更换加热管"),
    ("陈", "香格里拉小区", "卫生间地漏返味", "应师傅防水", "更换防臭地漏"),
    ("褚", "锦绣江南小区", "插座跳闸", "巧手水电维修", "更换插座"),
    ("卫", "龙域天城小区", "油烟机噪音大", "匠心家电维修", "清洗油烟机"),
    ("蒋", "九铃华府小区", "窗户关不严", "暖心搬运安装", "调整窗扇"),
    ("沈", "金色港湾小区", "外墙渗水到卧室", "应师傅防水", "内墙防水处理"),
    ("韩", "安居苑小区", "老人搬家需要帮手", "暖心搬运安装", "搬运家具"),
    ("杨", "东方小区", "马桶漏水", "巧手水电维修", "更换马桶进水阀"),
    ("朱", "大花园村", "冰箱不制冷", "匠心家电维修", "更换温控器"),
    ("秦", "香格里拉小区", "防盗门锁芯老化", "光明开锁换锁", "更换锁芯"),
    ("尤", "锦绣江南小区", "灯具需要更换", "巧手水电维修", "安装吸顶灯"),
    ("许", "龙域天城小区", "楼顶漏雨", "应师傅防水", "屋面局部防水"),
    ("何", "九铃华府小区", "电视需要挂墙", "暖心搬运安装", "安装电视挂架"),
    ("吕", "金色港湾小区", "燃气灶打不着火", "匠心家电维修", "更换点火针"),
    ("施", "安居苑小区", "水管冻裂", "巧手水电维修", "更换水管"),
]
# What the visited citizens said: satisfied?, suggestions (by position drawn).
VERDICTS = [
    (True, ""),
    (True, "希望师傅上门前先打电话确认时间。"),
    (True, ""),
    (False, "材料价格应提前告知，不要到最后才说。"),
    (True, ""),
    (True, "维修后能留一张保修卡就更好了。"),
    (False, "师傅迟到了一个小时，希望守时。"),
    (True, ""),
    (True, "希望社区月月进多来我们小区。"),
    (True, ""),
    (False, ""),
    (True, ""),
]
UNREACHABLE, DECLINED = 4, 1
DEMO_SEED = 8890
# The campaign was drawn 30 days ago, over the two months before.
DRAWN_DAYS_AGO, CAMPAIGN_DAYS = 30, 60


def _served_cases(user, partners) -> int:
    """The extra served households: a help request each, done by a partner."""
    now = timezone.now()
    made = 0
    for n, (surname, estate, trouble, partner, work) in enumerate(SERVED):
        title = f"{estate}{trouble}"
        if Case.objects.filter(title=title).exists():
            continue
        at = now - timedelta(days=80 - 2 * n)
        citizen = case_services.CitizenData(
            f"{surname}女士" if n % 2 else f"{surname}先生",
            f"139053202{n:02d}",
            f"{estate}{n + 1}号楼",
        )
        call = case_services.call_register(
            user=user,
            caller_phone=citizen.phone,
            outcome="answered",
            note=title,
            duration_seconds=150,
            received_at=at - timedelta(minutes=5),
        )
        case = case_services.case_register(
            call=call,
            kind=Kind.HELP,
            title=title,
            description=f"{trouble}，希望派师傅上门。",
            citizen=citizen,
            user=user,
            now=at,
        )
        case_services.case_accept(case=case.pk, user=user, now=at)
        day = (at + timedelta(days=1)).astimezone(local_zone()).date()
        start, end = _at(day, 9), _at(day, 11)
        order = services.order_create(
            case=case,
            partner=partners[partner],
            appointment_start=start,
            appointment_end=end,
            user=user,
            now=at,
        )
        services.order_record(
            order=order,
            lines=[LineData(work, Decimal("1"), Decimal("60.00"), LineKind.LABOUR)],
            service_done=f"{work}，已恢复正常。",
            completed_at=min(start + timedelta(hours=1), now),
            user=user,
        )
        made += 1
    return made


def _campaign(supervisor) -> HomeVisitSample | None:
    """The campaign of the last two months: drawn once with the demo's seed;
    the first dozen households visited, some not reached, one declined, a few
    planned, one suggestion given to its partner as follow-up work."""
    existing = HomeVisitSample.objects.filter(seed=DEMO_SEED).first()
    if existing is not None:
        return None
    now = timezone.now()
    today = timezone.localdate()
    drawn_on = today - timedelta(days=DRAWN_DAYS_AGO)
    sample = services.home_visit_sample_draw(
        period_start=drawn_on - timedelta(days=CAMPAIGN_DAYS),
        period_end=drawn_on,
        size=24,
        seed=DEMO_SEED,
        user=supervisor,
        now=now - timedelta(days=DRAWN_DAYS_AGO),
    )
    visits = list(sample.visits.order_by("position"))
    for n, visit in enumerate(visits):
        planned = now + timedelta(days=n - 18)
        services.home_visit_plan(
            visit=visit,
            planned_at=planned.replace(minute=0, second=0, microsecond=0),
            invite_partner=n % 3 == 0,
            user=supervisor,
        )
    verdicts = iter(VERDICTS)
    for n, visit in enumerate(visits[: len(VERDICTS) + UNREACHABLE + DECLINED]):
        at = now - timedelta(days=18 - n)
        if n < len(VERDICTS):
            satisfied, suggestions = next(verdicts)
            services.home_visit_record(
                visit=visit,
                outcome=VisitOutcome.DONE,
                satisfied=satisfied,
                suggestions=suggestions,
                note="师傅一同上门回访。" if visit.invite_partner else "",
                user=supervisor,
                now=at,
            )
        else:
            services.home_visit_record(
                visit=visit,
                outcome=VisitOutcome.UNREACHABLE
                if n < len(VERDICTS) + UNREACHABLE
                else VisitOutcome.DECLINED,
                user=supervisor,
                now=at,
            )
    late = HomeVisit.objects.filter(sample=sample, suggestions__contains="守时").first()
    if late is not None:
        services.follow_up_create(
            visit=late,
            task="与师傅约定上门时间并提前半小时电话告知；下月抽查守时情况。",
            due_on=today + timedelta(days=14),
            user=supervisor,
            now=now,
        )
    return sample


# --- photos of the community visit days ---------------------------------------------

PHOTOS = [
    ("香格里拉小区", "便民服务队在小区广场义务维修家电", (46, 125, 50)),
    ("锦绣江南小区", "养生服务队为居民量血压", (21, 101, 192)),
]


def _png(colour) -> bytes:
    from PIL import Image as PILImage
    from PIL import ImageDraw

    picture = PILImage.new("RGB", (480, 320), colour)
    draw = ImageDraw.Draw(picture)
    draw.rectangle((40, 200, 440, 280), fill=(250, 250, 250))
    draw.ellipse((190, 50, 290, 150), fill=(255, 193, 7))
    out = BytesIO()
    picture.save(out, format="PNG")
    return out.getvalue()


def _photos() -> int:
    """A photo each for two visits already past, made in code (a small PNG)."""
    from django.core.files.images import ImageFile
    from wagtail.images import get_image_model

    today = timezone.localdate()
    made = 0
    for n, (community, caption, colour) in enumerate(PHOTOS):
        visit = CommunityVisit.objects.filter(
            community=community, date__lt=today
        ).first()
        if visit is None or visit.visit_photos.exists():
            continue
        image = get_image_model().objects.create(
            title=caption,
            file=ImageFile(BytesIO(_png(colour)), name=f"community-visit-{n + 1}.png"),
        )
        CommunityVisitPhoto.objects.create(visit=visit, image=image, caption=caption)
        made += 1
    return made


def load(stdout=None) -> int:
    """Make the demo partners and their orders; returns the orders made."""
    user = get_user_model().objects.filter(username="officer").first()
    if user is None:
        if stdout:
            stdout.write("Partners demo skipped: no demo officer (run load_demo).")
        return 0
    with transaction.atomic():
        partners = _partners()
        _own_cases(user)
        visits = _visits(partners)
    made = sum(_order(demo, partners, user) for demo in ORDERS)
    with transaction.atomic():
        made += _served_cases(user, partners)
    supervisor = get_user_model().objects.filter(username="supervisor").first()
    campaign = None
    if supervisor is not None:
        with transaction.atomic():
            campaign = _campaign(supervisor)
    photos = _photos()
    if stdout:
        stdout.write(
            f"Partners demo ready ({len(partners)} partners, {made} new orders, "
            f"{visits} new community visits, {photos} new photos"
            + (
                f", a home-visit campaign of {campaign.visits.count()}"
                if campaign
                else ""
            )
            + ")."
        )
    return made
