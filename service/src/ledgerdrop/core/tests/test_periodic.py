"""The nightly-job registry: each night's slot runs once, whatever the number of schedulers."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from ledgerdrop.core import periodic
from ledgerdrop.core.models import PeriodicRun

pytestmark = pytest.mark.django_db

BRUSSELS = ZoneInfo("Europe/Brussels")


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=BRUSSELS)


def test_the_nightly_transfer_is_registered_for_two_in_the_morning_brussels_time() -> None:
    job = periodic.jobs()["bob_demat.autosend"]

    assert job.last_slot(at(29, 1, 59)) == at(28, 2)
    assert job.last_slot(at(29, 2, 0)) == at(29, 2)


def test_a_slot_is_queued_once_however_often_the_schedulers_look() -> None:
    first = periodic.run_due_jobs(at(29, 2, 1))
    again = periodic.run_due_jobs(at(29, 2, 5))
    next_night = periodic.run_due_jobs(at(30, 2, 1))

    assert "bob_demat.autosend" in first
    assert "bob_demat.autosend" not in again
    assert "bob_demat.autosend" in next_night
    assert PeriodicRun.objects.filter(job="bob_demat.autosend").count() == 2


def test_a_server_that_was_down_at_night_catches_up_once_when_it_comes_back() -> None:
    periodic.run_due_jobs(at(27, 2, 1))

    late = periodic.run_due_jobs(at(29, 10, 30))

    assert "bob_demat.autosend" in late
    assert list(
        PeriodicRun.objects.filter(job="bob_demat.autosend").values_list("slot", flat=True)
    ) == [at(27, 2).astimezone(dt.UTC), at(29, 2).astimezone(dt.UTC)]
