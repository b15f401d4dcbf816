"""The task shim: the only module that imports the task framework.

Apps declare background work with `@background` and queue it with `enqueue_on_commit`, so that
swapping the framework (django-tasks' database backend today) touches this file alone.

Two things are added to django-tasks-db's worker here:

- on PostgreSQL, a task queued wakes the workers at once: the queuing transaction sends a
  NOTIFY (delivered on commit, dropped on rollback) and each worker LISTENs on a connection of
  its own, looking at the queue by the clock only as a fallback. SQLite has no notifications:
  there the worker looks every half second, as it always did;
- a worker killed mid-task (kill -9, a machine lost) does not leave its task RUNNING for ever:
  each worker keeps a `TaskWorker` row fresh, and every worker puts the tasks of workers whose
  row went stale back in the queue. The task then runs again, so every task must be idempotent.
  Machines' clocks must agree to well within the lease (NTP).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from typing import Any, ParamSpec, TypeAlias, TypeVar

from django.conf import settings
from django.db import OperationalError, close_old_connections, connection, transaction
from django.dispatch import receiver
from django.utils import timezone
from django.utils.crypto import get_random_string
from django_tasks import task as _task
from django_tasks.base import Task, TaskResultStatus
from django_tasks.signals import task_enqueued
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception

from ledgerdrop.core.models import TaskWorker

P = ParamSpec("P")
T = TypeVar("T")

logger = logging.getLogger(__name__)

# A task that takes no arguments, such as a periodic job.
ArgumentlessTask: TypeAlias = Task[[], Any]

CHANNEL = "ledgerdrop_task_queued"
# SQLite: how often an idle worker looks at the queue.
_POLL_SECONDS = 0.5
# PostgreSQL: a NOTIFY wakes the worker; looking now and then anyway covers tasks deferred with
# `run_after` and the moments the listening connection is being re-made.
_FALLBACK_POLL_SECONDS = 5.0
# How soon the watch notices that its worker stops.
_TICK_SECONDS = 1.0
# A task that has lost this many workers is failed rather than tried again: it is likely what
# kills them (memory, a crash in native code).
_MAX_ATTEMPTS = 5


def background(func: Callable[P, T]) -> Task[P, T]:
    """Declare a function as background work; its arguments must be JSON-serialisable. It may
    run more than once (its worker lost mid-task), so it must be idempotent."""
    return _task()(func)


def enqueue_on_commit(task: Task[P, Any], *args: P.args, **kwargs: P.kwargs) -> None:
    """Queue `task` once the current transaction commits, and never if it rolls back."""
    transaction.on_commit(lambda: task.enqueue(*args, **kwargs))


def enqueue_on_commit_after(
    delay: dt.timedelta, task: Task[P, Any], *args: P.args, **kwargs: P.kwargs
) -> None:
    """Queue `task` once the current transaction commits, to run no sooner than `delay` later
    (a retry's backoff)."""
    transaction.on_commit(
        lambda: task.using(run_after=timezone.now() + delay).enqueue(*args, **kwargs)
    )


def enqueue_in_transaction(task: Task[P, Any], *args: P.args, **kwargs: P.kwargs) -> None:
    """Queue `task` as part of the current transaction: the queue lives in the same database
    (django-tasks' database backend), so the queued job and the caller's rows are committed
    together or not at all. For a claim that must never be kept without its job."""
    task.enqueue(*args, **kwargs)


@receiver(task_enqueued)
def _notify_workers(sender: type, **kwargs: Any) -> None:
    """Sent on the connection that queued the task: in a transaction, PostgreSQL delivers it on
    commit (after the row is visible) and drops it on rollback; identical notifications of one
    transaction are delivered once."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_notify(%s, '')", [CHANNEL])


class WorkerLost(Exception):
    """What a task failed with when its workers kept dying while running it."""


def requeue_abandoned() -> int:
    """Put back in the queue the tasks left RUNNING by workers that are no longer alive (no
    fresh `TaskWorker` row); returns how many. Safe to run from every worker at once: a task
    is put back only if it is still RUNNING from the same start."""
    now = timezone.now()
    cutoff = now - dt.timedelta(seconds=settings.LEDGERDROP_WORKER_LEASE_SECONDS)
    alive = set(
        TaskWorker.objects.filter(last_seen__gte=cutoff).values_list("worker_id", flat=True)
    )
    requeued = 0
    # Started before the cutoff: a worker that has just claimed a task is alive, row or not.
    for task in DBTaskResult.objects.running().filter(started_at__lt=cutoff):
        if task.worker_ids and task.worker_ids[-1] in alive:
            continue
        same_run = DBTaskResult.objects.filter(
            pk=task.pk, status=TaskResultStatus.RUNNING, started_at=task.started_at
        )
        if len(task.worker_ids) >= _MAX_ATTEMPTS:
            same_run.update(
                status=TaskResultStatus.FAILED,
                finished_at=now,
                exception_class_path=f"{WorkerLost.__module__}.{WorkerLost.__qualname__}",
                traceback=f"{len(task.worker_ids)} workers were lost while running this task.",
            )
            logger.error(
                "task failed: its workers keep dying task=%s id=%s", task.task_path, task.pk
            )
        elif same_run.update(status=TaskResultStatus.READY):
            requeued += 1
            logger.warning(
                "task requeued: its worker is gone task=%s id=%s worker=%s",
                task.task_path,
                task.pk,
                task.worker_ids[-1] if task.worker_ids else "?",
            )
    TaskWorker.objects.filter(last_seen__lt=cutoff).delete()
    return requeued


class _Worker(Worker):
    """django-tasks-db's worker, idle until `wake` is set or `interval` has passed."""

    def __init__(self, *, interval: float, batch: bool, wake: threading.Event) -> None:
        super().__init__(
            queue_names=["*"],
            excluded_queue_names=[],
            interval=interval,
            batch=batch,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id=get_random_string(12),
        )
        self.wake = wake

    def run(self) -> None:
        logger.info("task worker started worker_id=%s", self.worker_id)
        while self.running:
            close_old_connections()
            try:
                claimed = self._claim_next()
            except OperationalError as error:
                if not is_locked_database_exception(error):
                    raise
                claimed, busy = None, True  # SQLite's write lock taken: look again soon
            else:
                busy = False
            if claimed is not None:
                self.run_task(claimed)
                continue
            if self.batch and not busy:
                return
            close_old_connections()  # hand the connection back while idle
            self.wake.wait(self.interval)
            # A task queued from here on is seen by the next look or wakes the next wait.
            self.wake.clear()

    def stop(self) -> None:
        self.running = False
        self.wake.set()

    def _claim_next(self) -> DBTaskResult[Any, Any] | None:
        with exclusive_transaction(DBTaskResult.objects.db):
            claimed = DBTaskResult.objects.ready().filter(backend_name="default").get_locked()
            if claimed is not None:
                claimed.claim(self.worker_id)
        return claimed


class _Watch:
    """Beside each long-lived worker, in a thread of its own (so that it goes on while a long
    task runs): keeps the worker's `TaskWorker` row fresh, requeues the tasks of dead workers,
    and on PostgreSQL listens for queued tasks to wake the worker."""

    def __init__(self, worker: _Worker) -> None:
        self.worker = worker
        self.ready = threading.Event()
        self.stopping = threading.Event()
        lease = settings.LEDGERDROP_WORKER_LEASE_SECONDS
        self.beat_every = lease / 6
        self.tick = min(_TICK_SECONDS, self.beat_every)
        self.thread = threading.Thread(
            target=self._run, name="ledgerdrop-worker-watch", daemon=True
        )

    def start(self) -> None:
        """Start watching; returns once the worker is registered and, on PostgreSQL, listened
        for, so that no task queued from then on can go unheard."""
        self.thread.start()
        self.ready.wait(timeout=30)

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=self.tick + 10)

    def _run(self) -> None:
        delay = 0.5
        try:
            while not self.stopping.is_set():
                try:
                    self._watch()
                except Exception:
                    logger.exception("task worker watch lost its connection; reconnecting")
                    self.ready.set()  # the worker goes on by the clock meanwhile
                    self.stopping.wait(delay)
                    delay = min(delay * 2, 10.0)
                else:
                    delay = 0.5
        finally:
            with contextlib.suppress(Exception):
                TaskWorker.objects.filter(pk=self.worker.worker_id).delete()
            connection.close()

    def _watch(self) -> None:
        listening = connection.vendor == "postgresql"
        try:
            if listening:
                connection.ensure_connection()
                connection.connection.execute(f"LISTEN {CHANNEL}")
                # Whatever was queued while no one listened (a lost connection): look again.
                self.worker.wake.set()
            next_beat = 0.0
            while not self.stopping.is_set():
                if time.monotonic() >= next_beat:
                    self._beat()
                    if requeue_abandoned():
                        _notify_workers(sender=type(self))
                        self.worker.wake.set()
                    next_beat = time.monotonic() + self.beat_every
                    self.ready.set()
                if listening:
                    for _ in connection.connection.notifies(timeout=self.tick, stop_after=1):
                        self.worker.wake.set()
                else:
                    self.stopping.wait(self.tick)
        finally:
            # On PostgreSQL's pool the connection goes back for others: not listening.
            with contextlib.suppress(Exception):
                if listening and connection.connection is not None:
                    connection.connection.execute(f"UNLISTEN {CHANNEL}")
            connection.close()

    def _beat(self) -> None:
        now = timezone.now()
        mine = TaskWorker.objects.filter(pk=self.worker.worker_id)
        if not mine.update(last_seen=now):
            TaskWorker.objects.create(
                worker_id=self.worker.worker_id,
                host=socket.gethostname(),
                pid=os.getpid(),
                last_seen=now,
            )


def _poll_seconds(interval: float | None) -> float:
    if interval is not None:
        return interval
    return _FALLBACK_POLL_SECONDS if connection.vendor == "postgresql" else _POLL_SECONDS


def run_worker(*, interval: float | None = None, stop_when_idle: bool = False) -> None:
    """Run a worker in this thread until it is told to stop or, with `stop_when_idle`,
    until no task is left. `interval`: how often an idle worker looks at the queue (by default
    half a second on SQLite; on PostgreSQL, where a NOTIFY wakes it, five seconds)."""
    worker = _Worker(interval=_poll_seconds(interval), batch=stop_when_idle, wake=threading.Event())
    if stop_when_idle:
        # Gone in a moment: no row to keep fresh (its tasks are requeued like a dead worker's
        # if it dies) and no notification to wait for.
        worker.run()
        return
    if threading.current_thread() is threading.main_thread():
        # SIGTERM (systemd's stop, a deploy) or Ctrl-C: finish the task at hand, then stop;
        # a second one stops at once.
        worker.configure_signals()
    watch = _Watch(worker)
    watch.start()
    try:
        worker.run()
    finally:
        watch.stop()


def start_worker_thread(*, interval: float | None = None) -> Callable[[], None]:
    """Start a worker in a daemon thread of this process; returns the function that stops it
    (waiting a while for a running task to end)."""
    worker = _Worker(interval=_poll_seconds(interval), batch=False, wake=threading.Event())
    watch = _Watch(worker)
    watch.start()
    thread = threading.Thread(target=worker.run, name="ledgerdrop-worker", daemon=True)
    thread.start()

    def stop() -> None:
        worker.stop()
        thread.join(timeout=30)
        watch.stop()

    return stop
