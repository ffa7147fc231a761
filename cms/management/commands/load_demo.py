"""Build the demo site in code: departments, categories, staff logins, and cases in
every state, including the two stories the Hot Tracking column really ran.

Idempotent: running it again changes nothing that is already there. With
``--scale`` it also loads three years of history shaped like the article
(``_demo_history``); the default scale loads in seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from tracking import roles
from tracking import services as svc
from tracking.calendar import (
    chinesecalendar_years,
    import_chinesecalendar,
    official_years,
)
from tracking.models import (
    AWAITING_DEPARTMENT_STATES,
    CallbackMethod,
    CallbackOutcome,
    Case,
    Category,
    Department,
    ExtensionRequest,
    StaffProfile,
)

from ._demo_history import DEFAULT_SCALE, MAX_SCALE

DEMO_PASSWORD = "8890demo"

DEPARTMENTS = [
    ("市公安局交通警察支队", "交警支队"),
    ("市住房和城乡建设局", "住建局"),
    ("市城市管理局", "城管局"),
    ("市市场监督管理局", "市场监管局"),
    ("市自来水公司", "自来水公司"),
    ("市人力资源和社会保障局", "人社局"),
    ("市生态环境局", "生态环境局"),
    ("市教育局", "教育局"),
]

# name, Open311 code, default department (short name), handling days, escalates
CATEGORIES = [
    ("交通设施", "traffic-facilities", "交警支队", 5, True),
    ("道路建设", "road-construction", "住建局", 10, True),
    ("市容环境", "city-appearance", "城管局", 5, False),
    ("消费维权", "consumer-rights", "市场监管局", 7, False),
    ("供水服务", "water-supply", "自来水公司", 3, False),
    ("劳动保障", "labour", "人社局", 10, False),
    ("政策咨询", "policy-consultation", None, 2, False),
    ("环境保护", "environment", "生态环境局", 7, False),
    ("教育服务", "education", "教育局", 10, False),
    ("物业管理", "property-management", "住建局", 10, False),
    ("食品安全", "food-safety", "市场监管局", 5, False),
]

# username, role, department short name (for liaisons), display name
USERS = [
    ("officer", roles.CASE_OFFICERS, None, "话务员 王敏"),
    ("supervisor", roles.SUPERVISORS, None, "督办员 陈刚"),
    ("traffic", roles.DEPARTMENT_LIAISONS, "交警支队", "交警支队联络员"),
    ("construction", roles.DEPARTMENT_LIAISONS, "住建局", "住建局联络员"),
    ("editor", roles.EDITORS, None, "编辑 刘洋"),
    ("chief", roles.CHIEF_EDITORS, None, "主编 赵静"),
]


@dataclass
class DemoCase:
    """One demo case and the path it takes through the workflow."""

    title: str
    description: str
    kind: str
    category: str
    steps: list[str]
    days_ago: int
    is_efficiency: bool = False
    location: str = ""
    citizen: svc.CitizenData = field(default_factory=svc.CitizenData)
    #: For the step "merge": the title of the demo case this one duplicates.
    merge_into: str = ""


CASES = [
    DemoCase(
        "五湖路与花园大道十字路口直行车道拥堵，右转车道闲置",
        "五湖路与花园大道十字路口，早晚高峰直行车道排起长队，右转车道却空空荡荡，"
        "建议在右转车道增加直行标志，缓解拥堵。",
        "complaint",
        "交通设施",
        ["accept", "dispatch", "acknowledge", "escalate", "reply", "callback", "close"],
        days_ago=40,
        is_efficiency=True,
        location="五湖路与花园大道十字路口",
        citizen=svc.CitizenData("周建国", "13905310001", "五湖路88号"),
    ),
    DemoCase(
        "金胜路两个公交站之间无人行横道，换乘要绕行数百米",
        "金胜路路口多、车道变换多，两个公交站之间没有人行横道，换乘的乘客要绕行"
        "几百米，希望尽快施划人行横道。",
        "complaint",
        "道路建设",
        ["accept", "dispatch", "acknowledge", "escalate", "reply"],
        days_ago=45,
        is_efficiency=True,
        location="金胜路公交站",
        citizen=svc.CitizenData("孙丽华", "13905310002", "金胜路17号"),
    ),
    DemoCase(
        "小区门口占道经营噪音扰民，多次反映无人处理",
        "幸福小区南门夜市占道经营到凌晨，噪音扰民，已多次反映。",
        "complaint",
        "市容环境",
        ["accept", "dispatch", "escalate"],
        days_ago=30,
        is_efficiency=True,
        location="幸福小区南门",
        citizen=svc.CitizenData("钱卫东", "13905310003", "幸福小区5号楼"),
    ),
    DemoCase(
        "违章停车堵塞消防通道",
        "光明路商场后门消防通道长期被违停车辆占用。",
        "complaint",
        "交通设施",
        ["accept", "dispatch"],
        days_ago=12,
        is_efficiency=True,
        location="光明路商场后门",
        citizen=svc.CitizenData("杨帆", "13905310013", "光明路9号"),
    ),
    DemoCase(
        "光明路商场后门消防通道又被车堵了",
        "商场后门消防通道停满了车，之前反映过，还是没人管。",
        "complaint",
        "交通设施",
        ["accept", "merge"],
        days_ago=10,
        location="光明路商场后门",
        citizen=svc.CitizenData("杨帆", "13905310013", "光明路9号"),
        merge_into="违章停车堵塞消防通道",
    ),
    DemoCase(
        "人民路口红绿灯行人时间过短",
        "老人过马路来不及，希望延长行人绿灯时间。",
        "help",
        "交通设施",
        ["accept", "dispatch", "acknowledge"],
        days_ago=2,
        location="人民路口",
        citizen=svc.CitizenData("秦岚", "13905310014", ""),
    ),
    DemoCase(
        "自来水水压低，高层住户用水困难",
        "锦绣花园12楼以上水压不足，白天几乎无法用水。",
        "help",
        "供水服务",
        ["accept", "dispatch"],
        days_ago=1,
        location="锦绣花园",
        citizen=svc.CitizenData("吴芳", "13905310004", "锦绣花园3号楼1201"),
    ),
    DemoCase(
        "小区门前道路破损积水",
        "东方小区门前道路破损，雨后积水严重。",
        "complaint",
        "道路建设",
        ["accept", "dispatch", "return_case"],
        days_ago=6,
        location="东方小区",
        citizen=svc.CitizenData("郑强", "13905310005", ""),
    ),
    DemoCase(
        "灵活就业人员社保补贴如何申请？",
        "想了解灵活就业人员社保补贴的申请条件和材料。",
        "consultation",
        "政策咨询",
        ["accept", "answer"],
        days_ago=3,
        citizen=svc.CitizenData("冯敏", "13905310006", ""),
    ),
    DemoCase(
        "农户梨子滞销，希望帮忙联系销路",
        "今年梨子丰收但卖不出去，希望平台帮忙联系销路。",
        "help",
        "政策咨询",
        ["accept", "answer", "callback", "close"],
        days_ago=20,
        citizen=svc.CitizenData("陈大勇", "13905310007", "城郊梨园村"),
    ),
    DemoCase(
        "拖欠农民工工资",
        "某工地拖欠三个月工资。",
        "complaint",
        "劳动保障",
        ["accept", "dispatch", "reply", "callback_dissatisfied", "reopen"],
        days_ago=25,
        is_efficiency=True,
        citizen=svc.CitizenData("褚明", "13905310008", ""),
    ),
    DemoCase(
        "光明路公交站台顶棚破损漏雨",
        "光明路公交站台顶棚破了几个洞，下雨天候车的市民只能站在雨里。",
        "complaint",
        "交通设施",
        ["accept", "dispatch", "acknowledge", "escalate"],
        days_ago=20,
        is_efficiency=True,
        location="光明路公交站",
        citizen=svc.CitizenData("林静", "13905310015", "光明路21号"),
    ),
    DemoCase(
        "学校门口缺少减速带",
        "实验小学门口车速快，上下学时段孩子过马路很危险，希望设置减速带。",
        "help",
        "交通设施",
        ["accept", "dispatch", "acknowledge"],
        days_ago=7,
        location="实验小学门口",
        citizen=svc.CitizenData("何平", "13905310016", ""),
    ),
    DemoCase(
        "桥下人行道塌陷无人认领",
        "河西桥下人行道塌陷一个坑，住建局和城管局互相推诿，至今无人处理。",
        "complaint",
        "道路建设",
        ["accept", "dispatch", "return_case", "dispatch", "return_case"],
        days_ago=9,
        location="河西桥下",
        citizen=svc.CitizenData("许亮", "13905310017", ""),
    ),
    DemoCase(
        "咨询明天是否停水",
        "想知道明天东城区是否停水。",
        "consultation",
        "供水服务",
        [],
        days_ago=0,
        citizen=svc.CitizenData("卫红", "13905310009", ""),
    ),
    DemoCase(
        "邻居装修噪音",
        "邻居周末装修，属民事纠纷。",
        "complaint",
        "市容环境",
        ["reject"],
        days_ago=5,
        citizen=svc.CitizenData("蒋平", "13905310010", ""),
    ),
    DemoCase(
        "路灯不亮",
        "和平路路灯连续三晚不亮。",
        "help",
        "市容环境",
        ["accept", "withdraw"],
        days_ago=8,
        citizen=svc.CitizenData("沈涛", "13905310011", ""),
    ),
    DemoCase(
        "捐赠护理床给有需要的家庭",
        "家中有一张闲置护理床，愿意捐给需要的家庭。",
        "help",
        "政策咨询",
        ["accept"],
        days_ago=1,
        citizen=svc.CitizenData("韩雪", "13905310012", ""),
    ),
]


#: The demo case whose department asks for more time (延期申请).
EXTENSION_CASE = "学校门口缺少减速带"


class Command(BaseCommand):
    help = (
        "Load demo departments, categories, staff logins and cases, and a history "
        "of calls and cases shaped like the article (idempotent)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale",
            type=float,
            default=DEFAULT_SCALE,
            help=(
                "Size of the three-year history: 1.0 is the article's "
                "(780,000 calls, 280,000 accepted requests); 0 loads none "
                f"(default {DEFAULT_SCALE:g})."
            ),
        )

    def handle(self, *args, scale=DEFAULT_SCALE, **options):
        if not (0 <= scale <= MAX_SCALE) or scale != scale:
            raise CommandError(f"--scale must be from 0 to {MAX_SCALE:g}.")
        # Demo data mails nobody and logs little: Wagtail's review notices and
        # page audit lines would flood the console.
        import logging

        from django.test.utils import override_settings

        for name in ("wagtail", "newsroom", "tracking", "celery", "kombu"):
            logging.getLogger(name).setLevel(logging.WARNING)

        with override_settings(
            EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"
        ):
            self._load(scale)

    def reference_data(self):
        """The calendar, departments, categories and staff logins (the history
        is made of these): {short name: department}, {name: category},
        {username: user}."""
        with transaction.atomic():
            self._calendar()
            departments = self._departments()
            categories = self._categories(departments)
            users = self._users(departments)
        return departments, categories, users

    def _load(self, scale):
        departments, categories, users = self.reference_data()
        created = 0
        for demo in CASES:
            if not Case.objects.filter(title=demo.title).exists():
                self._case(demo, categories, departments, users)
                created += 1
        self._extension_request(users)
        from ._demo_newsroom import load_newsroom

        pages = load_newsroom(users)
        pages += self._newsroom_queues(users)
        from tracking.donations import demo as donations_demo
        from tracking.partners import demo as partners_demo

        partners_demo.load(self.stdout)
        donations_demo.load(self.stdout)
        self._history(scale, categories, users)
        self.stdout.write(f"Demo data ready ({created} new cases, {pages} new pages).")
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for username, role, dept, _name in USERS:
            where = f" — {dept}" if dept else ""
            self.stdout.write(f"  {username:<13} {role}{where}")
        self.stdout.write(f"  {'admin':<13} superuser")

    def _history(self, scale, categories, users):
        from ._demo_history import load_history

        done = load_history(scale=scale, categories=categories.values(), users=users)
        if done.skipped:
            other = done.skipped != f"{scale:g}"
            self.stdout.write(
                f"History at scale {done.skipped} is loaded already"
                + (f": --scale {scale:g} needs a new database." if other else ".")
            )
        elif scale > 0:
            self.stdout.write(
                f"Loaded history at scale {scale}: {done.calls:,} calls, "
                f"{done.cases:,} cases, {done.events:,} events in "
                f"{done.seconds:.0f}s."
            )
            self.stdout.write(
                "  " + ", ".join(f"{name} {s:.0f}s" for name, s in done.phases.items())
            )

    def _newsroom_queues(self, users) -> int:
        """Something in every newsroom queue: a story passed on to the chief
        editors, a story whose case moved since it ran, a scheduled article."""
        from wagtail.models import PageLogEntry

        from newsroom.models import (
            ArticlePage,
            ColumnPage,
            HotTrackingPage,
            YearIndexPage,
        )
        from newsroom.services import story_create_for_case

        editor, chief = users["editor"], users["chief"]
        # The editors have written the bus-shelter story and passed it on.
        case = Case.objects.filter(title="光明路公交站台顶棚破损漏雨").first()
        story = None
        if case is not None and case.escalated_at is not None:
            story = story_create_for_case(case=case, user=users["supervisor"])
        state = story.current_workflow_state if story else None
        task_state = state.current_task_state if state else None
        if (
            task_state
            and editor.groups.filter(
                pk__in=task_state.task.specific.groups.all()
            ).exists()
        ):
            story.standfirst = "光明路公交站台顶棚破损漏雨，市民投诉后逾期未修。"
            story.save_revision(user=editor)
            task_state.task.specific.on_action(task_state, editor, "approve")
        # The demo's stories ran once, the evening their case was handed over
        # (load_newsroom dates that run): their last publication is that one.
        for story in HotTrackingPage.objects.live().filter(
            first_published_at__lt=F("last_published_at")
        ):
            if (
                PageLogEntry.objects.filter(
                    page_id=story.pk, action="wagtail.publish"
                ).count()
                == 1
            ):
                HotTrackingPage.objects.filter(pk=story.pk).update(
                    last_published_at=story.first_published_at
                )
        # Next month's community visit, approved to go live in two days.
        if ArticlePage.objects.filter(slug="next-community-visit").exists():
            return 0
        column = ColumnPage.objects.filter(slug="community-visits").first()
        index = (
            YearIndexPage.objects.child_of(column)
            .filter(year=timezone.localdate().year)
            .first()
            if column
            else None
        )
        if index is None:
            return 0
        article = ArticlePage(
            title="社区月月进：下月走进东方小区",
            slug="next-community-visit",
            standfirst="8890平台的便民服务队、养生服务队下月走进东方小区。",
            live=False,
            go_live_at=timezone.now() + timedelta(days=2),
        )
        index.add_child(instance=article)
        # Published with a future go-live time: Wagtail schedules it, and the
        # scheduler publishes it when its time comes.
        article.save_revision(user=editor).publish(user=chief)
        return 1

    def _calendar(self):
        # The migrations import every year chinesecalendar knows; a package that
        # learnt a year since then has it imported here, as a whole.
        today = timezone.localdate()
        wanted = {today.year - 1, today.year} & chinesecalendar_years()
        if todo := wanted - official_years(wanted):
            import_chinesecalendar(todo)

    def _departments(self):
        result = {}
        for name, short in DEPARTMENTS:
            dept, _ = Department.objects.get_or_create(
                name=name, defaults={"short_name": short}
            )
            result[short] = dept
        return result

    def _categories(self, departments):
        result = {}
        for name, code, dept, days, escalates in CATEGORIES:
            category, _ = Category.objects.get_or_create(
                service_code=code,
                defaults={
                    "name": name,
                    "default_department": departments.get(dept),
                    "handling_days": days,
                    "escalates": escalates,
                    "escalation_threshold_days": 3,
                },
            )
            result[name] = category
        return result

    def _users(self, departments):
        User = get_user_model()
        result = {}
        for username, role, dept, display in USERS:
            user, created = User.objects.get_or_create(
                username=username,
                defaults={
                    "first_name": display,
                    "email": f"{username}@8890.invalid",
                    "is_staff": False,
                },
            )
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save()
            user.groups.add(Group.objects.get(name=role))
            if dept:
                StaffProfile.objects.update_or_create(
                    user=user, defaults={"department": departments[dept]}
                )
            result[username] = User.objects.get(pk=user.pk)
        if not User.objects.filter(username="admin").exists():
            User.objects.create_superuser(
                "admin", "admin@8890.invalid", DEMO_PASSWORD, first_name="系统管理员"
            )
        return result

    def _extension_request(self, users):
        """One request for more time waiting for the supervisor (once only): the
        traffic police ask on an open case of theirs."""
        case = (
            Case.objects.filter(title=EXTENSION_CASE, due_at__isnull=False)
            .filter(state__in=AWAITING_DEPARTMENT_STATES)
            .first()
        )
        if case is None or ExtensionRequest.objects.filter(case=case).exists():
            return
        svc.case_request_extension(
            case=case,
            user=users["traffic"],
            working_days=3,
            reason="减速带需与教育局、学校协调施工时间，避开上下学时段。",
            now=timezone.now(),
        )

    def _case(self, demo: DemoCase, categories, departments, users):
        officer, supervisor = users["officer"], users["supervisor"]
        category = categories[demo.category]
        liaison = next(
            (
                u
                for u in users.values()
                if getattr(getattr(u, "staff_profile", None), "department_id", None)
                == (category.default_department_id or -1)
            ),
            officer,
        )
        now = timezone.now()
        at = now - timedelta(days=demo.days_ago)
        # Every demo case came in by phone: its call is in the call log.
        call = svc.call_register(
            user=officer,
            caller_phone=demo.citizen.phone,
            outcome="answered",
            note=demo.title,
            duration_seconds=120 + 7 * len(demo.description),
            received_at=at - timedelta(minutes=5),
        )
        case = svc.case_register(
            call=call,
            kind=demo.kind,
            title=demo.title,
            description=demo.description,
            user=officer,
            category=category,
            citizen=demo.citizen,
            is_efficiency=demo.is_efficiency,
            location_text=demo.location,
            now=at,
        )
        escalated = False
        for step in demo.steps:
            # After the paper reports a case, things move a day at a time.
            at += timedelta(days=1) if escalated else timedelta(hours=2)
            if step == "escalate":
                # The reminder and the threshold have passed: the paper takes it on.
                at = max(at, now - timedelta(days=6))
                escalated = True
            if step == "merge":
                case = svc.case_merge(
                    case=case,
                    user=officer,
                    into=Case.objects.filter(title=demo.merge_into).latest("pk"),
                    now=at,
                )
                continue
            case = self._step(step, case, at, officer, supervisor, liaison, category)

    def _step(self, step, case, at, officer, supervisor, liaison, category):
        if step == "accept":
            return svc.case_accept(case=case, user=officer, now=at)
        if step == "reject":
            return svc.case_reject(
                case=case,
                user=officer,
                reason="属民事纠纷，建议通过人民调解解决。",
                now=at,
            )
        if step == "answer":
            return svc.case_answer(
                case=case, user=officer, answer="已按政策口径答复市民。", now=at
            )
        if step == "dispatch":
            return svc.case_dispatch(
                case=case,
                user=officer,
                department=category.default_department or Department.objects.first(),
                now=at,
            )
        if step == "acknowledge":
            return svc.case_acknowledge(case=case, user=liaison, now=at)
        if step == "return_case":
            return svc.case_return(
                case=case, user=liaison, reason="不属于本单位职责范围。", now=at
            )
        if step == "escalate":
            return svc.case_escalate(
                case=case,
                user=supervisor,
                reason="逾期未办结，转热点追踪栏目。",
                now=at,
            )
        if step == "reply":
            return svc.case_reply(
                case=case,
                user=liaison if liaison.pk != officer.pk else officer,
                text="已现场核查并整改完毕。",
                now=at,
            )
        if step in ("callback", "callback_dissatisfied"):
            svc.callback_record(
                case=case,
                user=officer,
                method=CallbackMethod.MEDIA_JOINT
                if case.escalated_at
                else CallbackMethod.PHONE,
                outcome=CallbackOutcome.SATISFIED
                if step == "callback"
                else CallbackOutcome.DISSATISFIED,
                now=at,
            )
            return Case.objects.get(pk=case.pk)
        if step == "close":
            return svc.case_close(case=case, user=officer, now=at)
        if step == "reopen":
            return svc.case_reopen(
                case=case, user=officer, reason="市民不满意。", now=at
            )
        if step == "withdraw":
            return svc.case_withdraw(
                case=case, user=officer, reason="市民撤回。", now=at
            )
        raise ValueError(step)
