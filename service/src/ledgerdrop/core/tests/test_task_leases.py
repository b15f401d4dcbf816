"""Which running tasks are put back in the queue: those of workers no longer alive, never those
of a worker that still shows signs of life however long its task runs, and not for ever."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from ledgerdrop.accounts.tasks import send_invitation
from ledgerdrop.core import tasks
from ledgerdrop.core.models import TaskWorker

pytestmark = pytest.mark.django_db

LONG_AGO = dt.timedelta(minutes=30)


def running(worker_ids: list[str], started: dt.timedelta = LONG_AGO) -> str:
    task_id = send_invitation.enqueue(0, "fr").id
    DBTaskResult.objects.filter(pk=task_id).update(
        status=TaskResultStatus.RUNNING,
        started_at=timezone.now() - started,
        worker_ids=worker_ids,
    )
    return task_id


def alive(worker_id: str, last_seen: dt.timedelta = dt.timedelta(0)) -> None:
    TaskWorker.objects.create(
        worker_id=worker_id, host="worker-1", pid=1234, last_seen=timezone.now() - last_seen
    )


def status(task_id: str) -> str:
    return str(DBTaskResult.objects.get(pk=task_id).status)


def test_the_task_of_a_worker_gone_silent_is_queued_again() -> None:
    alive("killed", last_seen=dt.timedelta(minutes=5))
    task_id = running(["killed"])

    assert tasks.requeue_abandoned() == 1
    assert status(task_id) == TaskResultStatus.READY
    assert not TaskWorker.objects.filter(pk="killed").exists()


def test_a_long_task_of_a_worker_still_alive_is_left_running() -> None:
    alive("busy")
    task_id = running(["busy"])

    assert tasks.requeue_abandoned() == 0
    assert status(task_id) == TaskResultStatus.RUNNING


def test_a_task_just_claimed_by_a_worker_not_yet_seen_is_left_running() -> None:
    task_id = running(["new"], started=dt.timedelta(seconds=1))

    tasks.requeue_abandoned()

    assert status(task_id) == TaskResultStatus.RUNNING


def test_a_task_that_has_lost_five_workers_is_failed_rather_than_tried_again() -> None:
    task_id = running(["a", "b", "c", "d", "e"])

    tasks.requeue_abandoned()

    failed = DBTaskResult.objects.get(pk=task_id)
    assert failed.status == TaskResultStatus.FAILED
    [error] = failed.task_result.errors
    assert error.exception_class is tasks.WorkerLost
    assert "5 workers were lost" in error.traceback
