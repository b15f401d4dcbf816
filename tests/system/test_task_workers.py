"""Task workers on the real framework: woken at once on PostgreSQL, and a worker killed mid-task
(kill -9 of a real `ledgerdrop worker` process) does not leave its task running for ever:
another worker runs it again, once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from ledgerdrop.core import tasks
from tests.conftest import database_url
from tests.system.held_task import held, lines
from tests.system.transfer import wait_until

pytestmark = [pytest.mark.system, pytest.mark.django_db(transaction=True)]

REPOSITORY = Path(__file__).resolve().parents[2]


def status(task_id: str) -> str:
    return str(DBTaskResult.objects.get(pk=task_id).status)


@pytest.mark.postgresql
def test_on_postgresql_an_idle_worker_runs_a_queued_task_without_waiting_for_its_next_look(
    tmp_path: Path,
) -> None:
    (tmp_path / "release").touch()
    # Idle, it would look at the queue again only in a minute: the task queued is heard.
    stop = tasks.start_worker_thread(interval=60)
    try:
        queued = held.enqueue(str(tmp_path))
        wait_until(
            lambda: status(queued.id) == TaskResultStatus.SUCCESSFUL, 15, "the task to have run"
        )
    finally:
        stop()


def start_worker(tmp_path: Path, name: str) -> subprocess.Popen[bytes]:
    data_dir = tmp_path / name
    data_dir.mkdir()
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "LEDGERDROP_DATA_DIR": str(data_dir),
        "LEDGERDROP_WORKER_LEASE_SECONDS": "2",
        "LEDGERDROP_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(REPOSITORY),
    }
    with (tmp_path / f"{name}.log").open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "ledgerdrop.config.cli", "worker"],
            cwd=REPOSITORY, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip


def test_a_task_whose_worker_is_killed_mid_run_is_run_again_by_another_worker_once(
    tmp_path: Path,
) -> None:
    queued = held.enqueue(str(tmp_path))
    first = start_worker(tmp_path, "first")
    second = None
    try:
        wait_until(lambda: len(lines(tmp_path / "runs")) == 1, 30, "the first worker to start it")
        first.send_signal(signal.SIGKILL)
        first.wait()
        assert status(queued.id) == TaskResultStatus.RUNNING

        (tmp_path / "release").touch()
        second = start_worker(tmp_path, "second")
        wait_until(
            lambda: status(queued.id) == TaskResultStatus.SUCCESSFUL,
            60,
            "the second worker to run it again",
        )
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(timeout=15)

    assert lines(tmp_path / "runs") == [str(first.pid), str(second.pid)]
    assert lines(tmp_path / "effects") == [str(second.pid)]
    assert len(DBTaskResult.objects.get(pk=queued.id).worker_ids) == 2


def test_a_worker_told_to_stop_mid_task_finishes_the_task_first(tmp_path: Path) -> None:
    queued = held.enqueue(str(tmp_path))
    worker = start_worker(tmp_path, "worker")
    try:
        wait_until(lambda: len(lines(tmp_path / "runs")) == 1, 30, "the worker to start it")
        worker.terminate()
        (tmp_path / "release").touch()
        worker.wait(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()

    assert worker.returncode == 0
    assert status(queued.id) == TaskResultStatus.SUCCESSFUL
    assert lines(tmp_path / "effects") == [str(worker.pid)]
