"""The task shim: the only module that imports the task framework.

Apps declare background work with `@background` and queue it with `enqueue_on_commit`, so that
swapping the framework (django-tasks' database backend today, Procrastinate on PostgreSQL for
scale-out) touches this file alone.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from typing import Any, ParamSpec, TypeAlias, TypeVar

from django.db import transaction
from django.utils import timezone
from django.utils.crypto import get_random_string
from django_tasks import task as _task
from django_tasks.base import Task
from django_tasks_db.management.commands.db_worker import Worker

P = ParamSpec("P")
T = TypeVar("T")

logger = logging.getLogger(__name__)

# A task that takes no arguments, such as a periodic job.
ArgumentlessTask: TypeAlias = Task[[], Any]


def background(func: Callable[P, T]) -> Task[P, T]:
    """Declare a function as background work; its arguments must be JSON-serialisable."""
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


def run_worker(*, interval: float = 0.5, stop_when_idle: bool = False) -> Worker:
    """Run a worker in this thread until `stop_worker` is called (or, with `stop_when_idle`,
    until no task is left). Returns the worker so that a caller in another thread can stop it."""
    worker = _new_worker(interval=interval, batch=stop_when_idle)
    worker.run()
    return worker


def start_worker_thread(*, interval: float = 0.5) -> Callable[[], None]:
    """Start a worker in a daemon thread of this process; returns the function that stops it."""
    worker = _new_worker(interval=interval, batch=False)
    thread = threading.Thread(target=worker.run, name="ledgerdrop-worker", daemon=True)
    thread.start()

    def stop() -> None:
        worker.running = False
        thread.join(timeout=interval + 30)

    return stop


def _new_worker(*, interval: float, batch: bool) -> Worker:
    return Worker(
        queue_names=["*"],
        excluded_queue_names=[],
        interval=interval,
        batch=batch,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id=get_random_string(12),
    )
