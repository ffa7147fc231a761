"""The public statistics page, made under the home page where there is one (a new
site gets it without an editor; the home page links to it)."""

import django.db.models.deletion
import wagtail.fields
from django.conf import settings
from django.db import migrations, models

import newsroom.models

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
STEPLEN = 4


def _next_child_path(Page, parent):
    last = Page.objects.filter(path__startswith=parent.path, depth=parent.depth + 1)
    last = last.order_by("-path").values_list("path", flat=True).first()
    number = 0
    if last:
        for char in last[-STEPLEN:]:
            number = number * len(ALPHABET) + ALPHABET.index(char)
    number += 1
    step = ""
    for _ in range(STEPLEN):
        number, digit = divmod(number, len(ALPHABET))
        step = ALPHABET[digit] + step
    return parent.path + step


def create_stats_page(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Page = apps.get_model("wagtailcore", "Page")
    HomePage = apps.get_model("newsroom", "HomePage")
    StatsPage = apps.get_model("newsroom", "StatsPage")

    home = HomePage.objects.order_by("pk").first()
    if home is None or StatsPage.objects.exists():
        return
    home_page = Page.objects.get(pk=home.pk)
    slug = "statistics"
    if Page.objects.filter(
        path__startswith=home_page.path, depth=home_page.depth + 1, slug=slug
    ).exists():
        return  # an editor's page holds the address: leave it to them
    content_type, _ = ContentType.objects.get_or_create(
        app_label="newsroom", model="statspage"
    )
    StatsPage.objects.create(
        title="数据公开",
        draft_title="数据公开",
        slug=slug,
        seo_title="8890 热线数据公开",
        intro="<p>8890 便民服务热线的来电、受理、办结与满意度，各承办单位的办理情况，"
        "随来电和诉求办理实时更新。</p>",
        content_type=content_type,
        path=_next_child_path(Page, home_page),
        depth=home_page.depth + 1,
        numchild=0,
        url_path=f"{home_page.url_path}{slug}/",
        live=True,
        locale_id=home_page.locale_id,
    )
    home_page.numchild = Page.objects.filter(
        path__startswith=home_page.path, depth=home_page.depth + 1
    ).count()
    home_page.save(update_fields=["numchild"])


class Migration(migrations.Migration):
    dependencies = [
        ("newsroom", "0007_story_publication_events"),
        ("wagtailcore", "0098_apitoken"),
    ]

    operations = [
        migrations.CreateModel(
            name="StatsPage",
            fields=[
                (
                    "page_ptr",
                    models.OneToOneField(
                        auto_created=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        parent_link=True,
                        primary_key=True,
                        serialize=False,
                        to=settings.WAGTAIL_PAGE_MODEL,
                    ),
                ),
                (
                    "intro",
                    wagtail.fields.RichTextField(
                        blank=True, verbose_name="introduction"
                    ),
                ),
            ],
            options={"verbose_name": "statistics page"},
            bases=(newsroom.models.CachedPageMixin, "wagtailcore.page"),
        ),
        migrations.RunPython(create_stats_page, migrations.RunPython.noop),
    ]
