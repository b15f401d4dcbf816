"""The periodic-job ledger: the one record the ground floor keeps for itself."""

from __future__ import annotations

from django.db import models


class PeriodicRun(models.Model):
    """A claimed slot of a periodic job. The unique constraint is what makes a nightly job run
    once per slot however many scheduler processes are alive."""

    job = models.CharField(max_length=100)
    slot = models.DateTimeField()
    claimed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["job", "slot"], name="periodic_run_once")]

    def __str__(self) -> str:
        return f"{self.job} @ {self.slot:%Y-%m-%d %H:%M}"


class TaskWorker(models.Model):
    """A task worker that is alive, as long as it keeps `last_seen` fresh. A task left RUNNING
    by a worker whose row went stale (killed, machine lost) is put back in the queue."""

    worker_id = models.CharField(max_length=64, primary_key=True)
    host = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField(auto_now_add=True)
    last_seen = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.worker_id} ({self.host}, pid {self.pid})"
