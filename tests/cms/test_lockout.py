"""Login throttling: a username is locked out from one address after too many
failed logins, with a 429 page in Chinese, until the cool-off ends or an
administrator lifts it in Settings → Login lockouts."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from tests.factories import officer

pytestmark = pytest.mark.django_db

PASSWORD = "pw-8890-test"  # what tests.factories.UserFactory sets
OFFICE = "10.8.8.90"
ELSEWHERE = "10.1.2.3"


def log_in(client, username, password, ip=OFFICE):
    return client.post(
        reverse("wagtailadmin_login"),
        {"username": username, "password": password},
        REMOTE_ADDR=ip,
    )


def fail(client, username, times, ip=OFFICE):
    for _ in range(times):
        log_in(client, username, "wrong-password", ip=ip)


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


@pytest.fixture
def alice():
    return officer(username="alice")


@pytest.fixture
def administrator():
    return get_user_model().objects.create_superuser(
        "root", "root@example.org", "root-pw-8890"
    )


def test_a_few_wrong_passwords_do_not_lock_out(client, alice):
    fail(client, "alice", settings.AXES_FAILURE_LIMIT - 1)

    response = log_in(client, "alice", PASSWORD)

    assert response.status_code == 302
    assert logged_in(client)


def test_after_the_limit_the_right_password_is_refused_with_429_in_chinese(
    client, alice
):
    fail(client, "alice", settings.AXES_FAILURE_LIMIT)

    response = log_in(client, "alice", PASSWORD)

    assert response.status_code == 429
    assert not logged_in(client)
    page = response.content.decode()
    assert 'lang="zh-hans"' in page
    assert "登录失败次数过多" in page
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    assert f"{minutes} 分钟" in page
    assert response["Retry-After"] == str(minutes * 60)


def test_the_same_user_from_another_address_is_not_locked_out(client, alice):
    fail(client, "alice", settings.AXES_FAILURE_LIMIT)

    response = log_in(client, "alice", PASSWORD, ip=ELSEWHERE)

    assert response.status_code == 302
    assert logged_in(client)


def test_another_user_on_the_same_address_is_not_locked_out(client, alice):
    officer(username="bob")
    fail(client, "alice", settings.AXES_FAILURE_LIMIT)

    response = log_in(client, "bob", PASSWORD)

    assert response.status_code == 302
    assert logged_in(client)


def test_an_administrator_sees_the_lockout_and_lifts_it(client, alice, administrator):
    fail(client, "alice", settings.AXES_FAILURE_LIMIT)
    # Another browser on the same address: counted for the same lockout.
    client.post(
        reverse("wagtailadmin_login"),
        {"username": "alice", "password": "wrong-password"},
        REMOTE_ADDR=OFFICE,
        HTTP_USER_AGENT="Firefox",
    )
    assert log_in(client, "alice", PASSWORD).status_code == 429

    admin = Client()
    admin.force_login(administrator)
    listing = admin.get(reverse("login_lockouts:index"))
    assert listing.status_code == 200
    assert "alice" in listing.content.decode()
    assert OFFICE in listing.content.decode()

    attempt = AccessAttempt.objects.filter(username="alice").first()
    confirm = admin.get(reverse("login_lockouts:delete", args=[attempt.pk]))
    assert confirm.status_code == 200
    lifted = admin.post(reverse("login_lockouts:delete", args=[attempt.pk]))
    assert lifted.status_code == 302
    assert not AccessAttempt.objects.filter(username="alice").exists()

    response = log_in(client, "alice", PASSWORD)
    assert response.status_code == 302
    assert logged_in(client)


def test_lockouts_are_listed_in_the_settings_menu_of_administrators_only(
    client, alice, administrator
):
    index = reverse("login_lockouts:index")
    client.force_login(administrator)
    assert index in client.get(reverse("wagtailadmin_home")).content.decode()

    client.force_login(alice)
    assert index not in client.get(reverse("wagtailadmin_home")).content.decode()


def test_a_user_who_is_not_a_superuser_can_neither_see_nor_lift_lockouts(
    client, alice
):
    fail(client, "alice", settings.AXES_FAILURE_LIMIT)
    attempt = AccessAttempt.objects.get(username="alice")
    client.force_login(officer(username="carol"))
    delete = reverse("login_lockouts:delete", args=[attempt.pk])

    # Wagtail answers a refusal by sending the user back to the dashboard.
    for response in (
        client.get(reverse("login_lockouts:index")),
        client.get(delete),
        client.post(delete),
    ):
        assert response.status_code == 302
        assert response["Location"] == reverse("wagtailadmin_home")
    assert AccessAttempt.objects.filter(username="alice").exists()


def test_a_successful_login_forgets_earlier_failures(client, alice):
    fail(client, "alice", settings.AXES_FAILURE_LIMIT - 1)
    assert log_in(client, "alice", PASSWORD).status_code == 302
    client.logout()

    fail(client, "alice", settings.AXES_FAILURE_LIMIT - 1)

    assert log_in(client, "alice", PASSWORD).status_code == 302
