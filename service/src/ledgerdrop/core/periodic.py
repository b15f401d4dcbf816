"""The periodic-job registry and its scheduler.

Apps register daily jobs at import time (`daily("autosend", at=..., task=...)`). The scheduler wakes
every few seconds and, for each job whose last slot has passed, claims that slot in the database
(`PeriodicRun` is unique per job and slot) and enqueues the task in the same transaction. Claiming
is what makes several scheduler processes, or a restart just after a run, queue each night's job
once; queuing in the claim's transaction is what makes a crash between the two lose no night.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from ledgerdrop.core import tasks
from ledgerdrop.core.models import PeriodicRun
from ledgerdrop.core.tasks import ArgumentlessTask

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DailyJob:
    name: str
    at: Callable[[], dt.time]
    task: ArgumentlessTask

    def last_slot(self, now: dt.datetime) -> dt.datetime:
        """The most recent moment at or before `now` when this job was due."""
        local = now.astimezone(ZoneInfo(settings.TIME_ZONE))
        slot = dt.datetime.combine(local.date(), self.at(), tzinfo=local.tzinfo)
        if slot > local:
            slot = dt.datetime.combine(
                local.date() - dt.timedelta(days=1), self.at(), tzinfo=local.tzinfo
            )
        return slot.astimezone(dt.UTC)


_registry: dict[str, DailyJob] = {}


def daily(name: str, *, at: Callable[[], dt.time], task: ArgumentlessTask) -> None:
    """Register `task` to run once a day at the local time `at()` returns (read at each check,
    so that a settings change needs no restart)."""
    _registry[name] = DailyJob(name=name, at=at, task=task)


def jobs() -> dict[str, DailyJob]:
    return dict(_registry)


def parse_time_of_day(value: str) -> dt.time:
    hours, minutes = value.split(":")
    return dt.time(int(hours), int(minutes))


def run_due_jobs(now: dt.datetime | None = None) -> list[str]:
    """Enqueue every job whose latest slot is unclaimed; returns the names of the jobs queued.

    A server that was down at 02:00 catches up once when it comes back; older slots are not
    replayed, since each run covers everything pending anyway."""
    now = now or timezone.now()
    queued = []
    for job in _registry.values():
        slot = job.last_slot(now)
        if PeriodicRun.objects.filter(job=job.name, slot__gte=slot).exists():
            continue
        try:
            with transaction.atomic():
                PeriodicRun.objects.create(job=job.name, slot=slot)
                tasks.enqueue_in_transaction(job.task)
        except IntegrityError:
            continue  # another scheduler claimed this slot first
        except Exception:
            # Neither claimed nor queued: the next check tries this slot again. Other jobs
            # go ahead.
            logger.exception("periodic job not queued job=%s slot=%s", job.name, slot.isoformat())
            continue
        logger.info("periodic job queued job=%s slot=%s", job.name, slot.isoformat())
        queued.append(job.name)
    return queued


def start_scheduler_thread(*, every_seconds: float = 20.0) -> Callable[[], None]:
    """Check for due jobs in a daemon thread; returns the function that stops it."""
    stopping = threading.Event()

    def loop() -> None:
        while not stopping.is_set():
            try:
                run_due_jobs()
            except Exception:
                logger.exception("periodic scheduler check failed; trying again shortly")
            stopping.wait(every_seconds)

    thread = threading.Thread(target=loop, name="ledgerdrop-scheduler", daemon=True)
    thread.start()

    def stop() -> None:
        stopping.set()
        thread.join(timeout=5)

    return stop
