"""The nightly-job registry: each night's slot runs once, whatever the number of schedulers."""

from __future__ import annotations

import copy
import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django_tasks_db.models import DBTaskResult

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


def _queued(job: periodic.DailyJob) -> int:
    return DBTaskResult.objects.filter(task_path=job.task.module_path).count()


def test_a_claimed_slot_has_its_job_queued_at_once() -> None:
    job = periodic.jobs()["bob_demat.autosend"]

    periodic.run_due_jobs(at(29, 2, 1))

    # In the claim's own transaction, not after it commits: the test's transaction never does.
    assert _queued(job) == 1


def test_a_slot_whose_job_cannot_be_queued_stays_unclaimed_and_other_jobs_go_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    autosend = periodic.jobs()["bob_demat.autosend"]
    # A real refusal of the task backend at enqueue time: a queue it does not serve (set past
    # `using`, which would refuse it at once).
    task = copy.copy(autosend.task)
    object.__setattr__(task, "queue_name", "nowhere")
    unqueueable = periodic.DailyJob(name="test.unqueueable", at=lambda: dt.time(1, 0), task=task)
    monkeypatch.setitem(periodic._registry, unqueueable.name, unqueueable)

    queued = periodic.run_due_jobs(at(29, 2, 1))

    assert "bob_demat.autosend" in queued and "test.unqueueable" not in queued
    assert not PeriodicRun.objects.filter(job="test.unqueueable").exists()
    assert _queued(autosend) == 1
