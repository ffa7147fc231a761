"""Photos on the case page: thumbnails from a staff-only view that streams the
private file to whoever may see the case, and to no one else."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from django.core.files.base import ContentFile
from django.test import Client
from wagtail.users.models import UserProfile

from tests.factories import DepartmentFactory, case_in_state, liaison, officer
from tracking.models import CaseAttachment

pytestmark = pytest.mark.django_db

CASES_URL = "/admin/tracking/cases/"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(autouse=True)
def _photos_in_a_directory_of_their_own(private_storage):
    return private_storage


def attach(case, content=PNG, content_type="image/png", extension="png"):
    attachment = CaseAttachment(
        case=case, content_type=content_type, width=640, height=480, size=len(content)
    )
    attachment.file.save(f"photo.{extension}", ContentFile(content), save=False)
    attachment.save()
    return attachment


def photo_url(attachment, case=None) -> str:
    return f"{CASES_URL}{(case or attachment.case).pk}/photos/{attachment.pk}/"


def client_for(user) -> Client:
    profile = UserProfile.get_for_user(user)
    profile.preferred_language = "en"
    profile.save()
    client = Client()
    client.force_login(user)
    return client


def body(response) -> bytes:
    return b"".join(response.streaming_content)


@pytest.fixture
def department():
    return DepartmentFactory(name="市容环卫")


@pytest.fixture
def case(department):
    return case_in_state("dispatched", department=department)


def test_an_officer_gets_the_photo_with_its_type_and_private_headers(case):
    attachment = attach(case)

    response = client_for(officer()).get(photo_url(attachment))

    assert response.status_code == 200
    assert body(response) == PNG
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "private" in response["Cache-Control"]
    assert "public" not in response["Cache-Control"]
    assert response["Content-Disposition"].startswith("inline")


def test_the_case_page_shows_thumbnails_from_the_photo_view(case):
    first, second = attach(case), attach(case)

    page = BeautifulSoup(
        client_for(officer()).get(f"{CASES_URL}{case.pk}/").content.decode(),
        "html.parser",
    )

    images = page.select("img[data-case-photo]")
    assert [img["src"] for img in images] == [photo_url(first), photo_url(second)]
    assert all(not img["src"].startswith("/media/") for img in images)
    assert page.select_one("a > img[data-case-photo]").parent["href"] == photo_url(
        first
    )


def test_the_case_page_says_when_there_is_no_photo(case):
    page = client_for(officer()).get(f"{CASES_URL}{case.pk}/")

    assert "No photo." in page.content.decode()


def test_a_liaison_of_the_department_sees_the_photo(case, department):
    attachment = attach(case)

    response = client_for(liaison(department)).get(photo_url(attachment))

    assert response.status_code == 200
    assert body(response) == PNG


def test_a_liaison_of_another_department_gets_not_found(case):
    attachment = attach(case)

    response = client_for(liaison(DepartmentFactory(name="水务集团"))).get(
        photo_url(attachment)
    )

    assert response.status_code == 404
    assert PNG not in response.content


def test_a_photo_is_found_only_under_its_own_case(case):
    attachment = attach(case)
    other = case_in_state("registered")

    response = client_for(officer()).get(photo_url(attachment, case=other))

    assert response.status_code == 404


def test_visitors_are_sent_to_the_login_page(case, client):
    attachment = attach(case)

    response = client.get(photo_url(attachment))

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_a_file_that_is_not_a_shown_image_type_is_downloaded_not_shown(case):
    attachment = attach(
        case,
        content=b"<svg onload=alert(1)>",
        content_type="image/svg+xml",
        extension="svg",
    )

    response = client_for(officer()).get(photo_url(attachment))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"


def test_a_photo_whose_file_is_gone_is_not_found(case, private_storage):
    attachment = attach(case)
    (private_storage / attachment.file.name).unlink()

    response = client_for(officer()).get(photo_url(attachment))

    assert response.status_code == 404


def test_post_is_not_allowed(case):
    attachment = attach(case)

    response = client_for(officer()).post(photo_url(attachment))

    assert response.status_code == 405
