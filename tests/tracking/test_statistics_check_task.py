"""The nightly check of the statistics rollups: scheduled, and loud on a drift."""

import logging

import pytest
from django_celery_beat.models import PeriodicTask

from tracking.models import CaseDay
from tracking.tasks import check_statistics


@pytest.mark.django_db
def test_beat_checks_the_rollups_every_night():
    task = PeriodicTask.objects.get(task="tracking.tasks.check_statistics")
    assert task.enabled
    assert (task.crontab.hour, task.crontab.minute) == ("3", "30")


@pytest.mark.django_db
def test_the_check_is_quiet_when_the_rollups_agree_and_loud_when_not(caplog):
    from tracking.services import case_register

    case_register(kind="complaint", title="路灯不亮", description="路灯坏了")
    with caplog.at_level(logging.ERROR, logger="tracking.tasks"):
        assert check_statistics() == 0
    assert not caplog.records

    CaseDay.objects.update(registered=5)
    with caplog.at_level(logging.ERROR, logger="tracking.tasks"):
        assert check_statistics() == 1
    assert "rebuild_statistics" in caplog.text
    assert "CaseDay" in caplog.text
