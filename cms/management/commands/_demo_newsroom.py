# ruff: noqa: E501 -- demo prose in Chinese reads better unwrapped
"""Demo content of the newspaper: Hot Tracking stories of the escalated demo cases,
a follow-up, two other columns and the statistics page. Idempotent."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from newsroom.models import (
    ArticlePage,
    ColumnPage,
    FollowUpPage,
    HomePage,
    HotTrackingPage,
    StatsPage,
    YearIndexPage,
)
from newsroom.services import story_create_for_case
from tracking.models import Case

# Case title prefix → story text; "publish" stories go live, others stay in review.
STORIES = {
    "五湖路": {
        "title": "五湖路与花园大道路口：直行车道拥挤不堪，右转车道空空如也",
        "standfirst": "市民通过8890反映路口车道设置不合理。本报报道次日，交警部门便在右转车道增加了直行标识。",
        "body": [
            "五湖路与花园大道的十字路口，早晚高峰时直行车道拥挤不堪、右转车道却空空如也，两者形成强烈反差。",
            "市民多次通过8890便民服务热线反映，诉求派单后逾期未办结，8890平台将其转入本报“热点追踪”栏目。",
        ],
        "print_page": "A03",
        "publish": True,
        "follow_up": {
            "title": "追踪：右转车道已增设直行标识，路口通行顺畅",
            "slug": "follow-up",
            "standfirst": "本报报道次日，交警部门在右转车道增加了直行标识。8890平台联合本报进行了媒体联合回访，市民表示满意。",
        },
    },
    "金胜路": {
        "title": "金胜路两公交站间没有人行横道，换乘要绕几百米",
        "standfirst": "金胜路小路口多、车辆穿插变道多，两个公交站牌之间却没有直达的人行横道。报道后，建设部门很快施划了人行横道。",
        "body": [
            "金胜路小路口多，车辆穿插变道多，但在两个公交站牌之间却没有直达的人行横道，让换乘的人不得不绕几百米过马路。",
            "本报报道后，建设部门很快施划了人行横道。",
        ],
        "print_page": "A05",
        "publish": True,
    },
    "小区门口占道经营": {"publish": False},
}

COLUMNS = [
    {
        "title": "果农帮帮团",
        "slug": "growers",
        "intro": "<p>帮滞销的果农吆喝一声。</p>",
        "article": {
            "title": "舟山镇柿子丰收却愁销路，8890组织商会企业帮柿农",
            "slug": "persimmon-growers",
            "standfirst": "11月份，8890多次组织商会、企业为舟山镇的柿农解决丰产后的销售难题。",
            "body": "7月份，8890组织加盟商前往舟山镇新楼村采购爱心梨，并将梨转赠给入户回访的8890用户。",
        },
    },
    {
        "title": "社区月月进",
        "slug": "community-visits",
        "intro": "<p>便民服务队、养生服务队走进社区。</p>",
        "lists_community_visits": True,
        "article": {
            "title": "社区月月进：今年走进7个社区，服务市民上万人",
            "slug": "seven-communities",
            "standfirst": "3月5日、4月9日、5月7日、6月18日、7月15日、8月14日、10月29日，8890平台的两支服务队走进社区。",
            "body": "二十多家加盟商参与，义务维修、美食品尝、文艺演出，服务市民一万多人次。",
        },
    },
]


# The migration makes this page on a new site; the demo makes it again if it is gone.
STATS_PAGE = {
    "title": "数据公开",
    "slug": "statistics",
    "intro": "<p>8890 便民服务热线的来电、受理、办结与满意度，各承办单位的办理情况，随来电和诉求办理实时更新。</p>",
}


def _publish(page, user):
    page.save_revision(user=user).publish(user=user)


def _year_index(column, year):
    index = YearIndexPage.objects.child_of(column).filter(year=year).first()
    if index is None:
        index = YearIndexPage(title=str(year), slug=str(year), year=year)
        column.add_child(instance=index)
        _publish(index, None)
    return index


def load_newsroom(users) -> int:
    """Create what is missing; return the number of pages created."""
    created = 0
    editor, chief, supervisor = users["editor"], users["chief"], users["supervisor"]
    for prefix, spec in STORIES.items():
        case = Case.objects.filter(title__startswith=prefix).first()
        if case is None or case.escalated_at is None:
            continue
        if HotTrackingPage.objects.filter(case=case).exists():
            continue
        story = story_create_for_case(case=case, user=supervisor)
        created += 1
        if not spec.get("publish"):
            continue
        # The workflow is closed by the chief editor's approval, which publishes.
        story.title = spec["title"]
        story.standfirst = spec["standfirst"]
        story.body = [("paragraph", f"<p>{text}</p>") for text in spec["body"]]
        story.print_date = timezone.localdate(case.escalated_at) + timedelta(days=1)
        story.print_page = spec["print_page"]
        revision = story.save_revision(user=editor)
        # The editors pass the written story on; the chief editor's approval
        # publishes it.
        for reviewer in (editor, chief):
            state = story.current_workflow_state
            if state is None or state.current_task_state is None:
                break
            state.current_task_state.task.specific.on_action(
                state.current_task_state, reviewer, "approve"
            )
            story.refresh_from_db()
        story.refresh_from_db()
        if not story.live:
            revision.publish(user=chief)
        # The paper ran it the evening the case was handed over.
        HotTrackingPage.objects.filter(pk=story.pk).update(
            first_published_at=case.escalated_at + timedelta(hours=10)
        )
        if follow := spec.get("follow_up"):
            page = FollowUpPage(
                title=follow["title"],
                slug=follow["slug"],
                standfirst=follow["standfirst"],
            )
            story.add_child(instance=page)
            _publish(page, chief)
            created += 1
    home = HomePage.objects.first()
    year = timezone.localdate().year
    for spec in COLUMNS:
        if ColumnPage.objects.filter(slug=spec["slug"]).exists():
            continue
        column = ColumnPage(
            title=spec["title"],
            slug=spec["slug"],
            intro=spec["intro"],
            lists_community_visits=spec.get("lists_community_visits", False),
        )
        home.add_child(instance=column)
        _publish(column, chief)
        article = ArticlePage(
            title=spec["article"]["title"],
            slug=spec["article"]["slug"],
            standfirst=spec["article"]["standfirst"],
            body=[("paragraph", f"<p>{spec['article']['body']}</p>")],
        )
        _year_index(column, year).add_child(instance=article)
        _publish(article, chief)
        created += 2
    if not StatsPage.objects.exists():
        stats = StatsPage(**STATS_PAGE)
        home.add_child(instance=stats)
        _publish(stats, chief)
        created += 1
    return created
