"""Replace Wagtail's welcome page with the newspaper's home page and give the
editorial roles their page permissions."""

from django.db import migrations


def create_home_page(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Page = apps.get_model("wagtailcore", "Page")
    Site = apps.get_model("wagtailcore", "Site")
    HomePage = apps.get_model("newsroom", "HomePage")
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    GroupPagePermission = apps.get_model("wagtailcore", "GroupPagePermission")

    if HomePage.objects.exists():
        return
    Page.objects.filter(depth=2, url_path="/home/", content_type__model="page").delete()
    content_type, _ = ContentType.objects.get_or_create(
        model="homepage", app_label="newsroom"
    )
    Locale = apps.get_model("wagtailcore", "Locale")
    root = Page.objects.get(depth=1)
    locale = Locale.objects.order_by("pk").first()
    home = HomePage.objects.create(
        title="8890 News+",
        draft_title="8890 News+",
        slug="home",
        content_type=content_type,
        path=f"{root.path}0001",
        depth=2,
        numchild=0,
        url_path="/home/",
        live=True,
        locale=locale,
    )
    root.numchild = Page.objects.filter(depth=2).count()
    root.save(update_fields=["numchild"])
    Site.objects.update_or_create(
        is_default_site=True,
        defaults={"hostname": "localhost", "port": 80, "root_page": home,
                  "site_name": "8890 News+"},
    )

    page_perms = {
        "Editors": ["add_page", "change_page"],
        "Chief editors": ["add_page", "change_page", "publish_page"],
    }
    for group_name, codenames in page_perms.items():
        group = Group.objects.get(name=group_name)
        for codename in codenames:
            GroupPagePermission.objects.get_or_create(
                group=group,
                page=home,
                permission=Permission.objects.get(
                    content_type__app_label="wagtailcore", codename=codename
                ),
            )


class Migration(migrations.Migration):
    dependencies = [
        ("newsroom", "0001_initial"),
        ("tracking", "0002_roles"),
        ("wagtailcore", "0098_apitoken"),
    ]

    operations = [migrations.RunPython(create_home_page, migrations.RunPython.noop)]
