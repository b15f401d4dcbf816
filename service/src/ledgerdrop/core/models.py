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


class BackupRun(models.Model):
    """What one nightly backup did, for the operator's admin view (README, "Backup and
    restore"); the backup itself lives on the top floor, which may write here."""

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    succeeded = models.BooleanField()
    destination = models.CharField(max_length=500)
    snapshot = models.CharField(max_length=500, blank=True)
    rows = models.PositiveBigIntegerField(default=0)
    files = models.PositiveIntegerField(default=0)
    files_copied = models.PositiveIntegerField(default=0)
    # Why it failed, or "".
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        outcome = "ok" if self.succeeded else "FAILED"
        return f"backup {self.started_at:%Y-%m-%d %H:%M} {outcome}"
