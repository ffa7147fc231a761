"""Uploaded images are served by Django in the embedded setup (DEBUG off): the
originals and renditions Wagtail writes, as images only, never a directory, an
SVG, an HTML file or anything outside MEDIA_ROOT; and not at all when
NEWSPLUS_SERVE_MEDIA is off. In a real browser, a story's image shows."""

from __future__ import annotations

import io
import json
import os

import pytest
from django.core.files.images import ImageFile
from PIL import Image as PILImage
from wagtail.images import get_image_model
from wagtail.models import Site

from newsroom.models import HomePage, HotTrackingPage
from newsroom.services import story_create_for_case
from tests.factories import CaseFactory, aware

# A 404 looks up Wagtail's redirects: every test needs the database.
pytestmark = pytest.mark.django_db

CHROMIUM = "/usr/bin/chromium"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    settings.NEWSPLUS_SERVE_MEDIA = True
    return settings.MEDIA_ROOT


def png(width=64, height=48) -> ImageFile:
    buffer = io.BytesIO()
    PILImage.new("RGB", (width, height), (200, 30, 30)).save(buffer, "PNG")
    return ImageFile(buffer, name="manhole.png")


@pytest.fixture
def image(media_root):
    return get_image_model().objects.create(title="井盖", file=png())


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_a_rendition_is_served_as_png_with_nosniff(client, image):
    rendition = image.get_rendition("fill-32x32")
    assert rendition.url.startswith("/media/images/")

    response = client.get(rendition.url)

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert body(response).startswith(PNG_MAGIC)


def test_an_original_is_served_and_revalidated(client, image):
    url = image.file.url
    assert url.startswith("/media/original_images/")

    response = client.get(url)
    assert response.status_code == 200
    assert body(response).startswith(PNG_MAGIC)

    again = client.get(url, HTTP_IF_MODIFIED_SINCE=response["Last-Modified"])
    assert again.status_code == 304


@pytest.mark.parametrize(
    "name, content",
    [
        ("images/logo.svg", b"<svg><script>alert(1)</script></svg>"),
        ("images/page.html", b"<script>alert(1)</script>"),
        # An image-named file outside Wagtail's image folders (documents are
        # served by Wagtail's view, which checks their privacy).
        ("documents/scan.png", PNG_MAGIC),
        ("manhole.png", PNG_MAGIC),
    ],
)
def test_only_raster_images_in_the_image_folders_are_served(
    client, media_root, name, content
):
    path = media_root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)

    assert client.get(f"/media/{name}").status_code == 404


def test_folders_are_not_listed(client, media_root):
    (media_root / "images").mkdir()
    (media_root / "images" / "a.png").write_bytes(PNG_MAGIC)

    assert client.get("/media/images/").status_code == 404
    assert client.get("/media/images").status_code in (301, 404)


@pytest.mark.parametrize(
    "url",
    [
        "/media/images/../../secret.png",
        "/media/../secret.png",
        "/media/images/%2e%2e/%2e%2e/secret.png",
        "/media/images/outside.png",  # a symlink out of MEDIA_ROOT
    ],
)
def test_paths_out_of_media_root_are_refused(client, media_root, url):
    secret = media_root.parent / "secret.png"
    secret.write_bytes(PNG_MAGIC)
    (media_root / "images").mkdir()
    (media_root / "images" / "outside.png").symlink_to(secret)

    assert client.get(url).status_code == 404


def test_nothing_is_served_when_the_setting_is_off(client, image, settings):
    url = image.get_rendition("fill-32x32").url
    settings.NEWSPLUS_SERVE_MEDIA = False

    assert client.get(url).status_code == 404
    assert client.get(image.file.url).status_code == 404


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_published_story_shows_its_image_in_the_browser(
    hot_tracking_site, live_server, media_root, settings
):
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"Chromium is not installed at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed")
    settings.DEBUG = False
    Site.objects.update_or_create(
        is_default_site=True,
        defaults={
            "hostname": "localhost",
            "port": 80,
            "root_page": HomePage.objects.get(),
        },
    )
    picture = get_image_model().objects.create(title="井盖", file=png(120, 80))
    story = story_create_for_case(
        case=CaseFactory(overdue=True), now=aware(2026, 3, 18, 10)
    )
    story.body = json.dumps(
        [
            {
                "type": "image",
                "value": {"image": picture.pk, "decorative": False, "alt_text": "井盖"},
            }
        ]
    )
    story.save_revision().publish()
    url = live_server.url + HotTrackingPage.objects.get(pk=story.pk).url

    # No ORM inside this block: Playwright runs an event loop in this thread.
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
            ],
        )
        try:
            page = browser.new_page()
            page.set_default_timeout(15_000)
            refused = []
            page.on(
                "console",
                lambda message: refused.append(message.text)
                if "Content Security Policy" in message.text
                else None,
            )
            response = page.goto(url, wait_until="load")
            status = response.status
            img = page.locator("article figure img")
            src = img.get_attribute("src")
            natural_width = img.evaluate("img => img.complete && img.naturalWidth")
        finally:
            browser.close()

    assert status == 200
    assert src.startswith("/media/images/")
    assert natural_width == 120
    assert refused == []
