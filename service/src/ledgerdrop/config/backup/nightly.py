"""The nightly backup: a daily job of the periodic registry when LEDGERDROP_BACKUP_DIR is set.
Each run leaves a `BackupRun` for the operator's admin view, keeps the last
LEDGERDROP_BACKUP_KEEP snapshots, and mails the operator (ADMINS, from
LEDGERDROP_OPERATOR_EMAIL) when it fails: a backup that silently stopped is found on the day
it is needed."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from django.conf import settings
from django.core.mail import mail_admins
from django.utils import timezone

from ledgerdrop.config.backup import manifest as layout
from ledgerdrop.config.backup import snapshot
from ledgerdrop.config.backup.manifest import Manifest
from ledgerdrop.core import periodic
from ledgerdrop.core.models import BackupRun
from ledgerdrop.core.tasks import background

logger = logging.getLogger(__name__)


@background
def nightly_backup() -> bool:
    if not settings.LEDGERDROP_BACKUP_DIR:  # unset since the job was queued
        return False
    return run(Path(settings.LEDGERDROP_BACKUP_DIR), keep=settings.LEDGERDROP_BACKUP_KEEP)


def register_periodic_job() -> None:
    if settings.LEDGERDROP_BACKUP_DIR:
        periodic.daily(
            "backup",
            at=lambda: periodic.parse_time_of_day(settings.LEDGERDROP_BACKUP_AT),
            task=nightly_backup,
        )


def run(destination: Path, *, keep: int) -> bool:
    """One backup into `destination`, then the old snapshots pruned; whether it succeeded."""
    started = timezone.now()
    try:
        result = snapshot.take(destination)
        prune(destination, keep=keep)
    except Exception as exc:
        logger.exception("nightly backup failed destination=%s", destination)
        message = f"{type(exc).__name__}: {exc}"
        BackupRun.objects.create(
            started_at=started,
            finished_at=timezone.now(),
            succeeded=False,
            destination=str(destination),
            message=message,
        )
        mail_admins(
            "Ledgerdrop: the nightly backup failed",
            f"The backup into {destination} started at {started:%Y-%m-%d %H:%M %Z} failed:\n\n"
            f"{message}\n\nThe last good backups are still there; the next attempt is "
            "tomorrow night, or run `ledgerdrop backup DEST` now.",
        )
        return False
    BackupRun.objects.create(
        started_at=started,
        finished_at=timezone.now(),
        succeeded=True,
        destination=str(destination),
        snapshot=result.snapshot.name,
        rows=sum(result.manifest.counts.values()),
        files=len(result.manifest.files),
        files_copied=result.files_copied,
    )
    return True


def prune(destination: Path, *, keep: int) -> None:
    """Keep the newest `keep` snapshots, and the stored files that one of them names."""
    found = layout.snapshots(destination)
    for old in found[: max(0, len(found) - max(1, keep))]:
        shutil.rmtree(old)
    running = (destination / layout.SNAPSHOTS).glob(f"{layout.PARTIAL}*")
    if any(running):
        # Another backup is being written: it may count on a file no manifest names yet. The
        # next run removes what is left over.
        return
    wanted: set[str] = set()
    for kept in layout.snapshots(destination):
        manifest = Manifest.read(kept)
        wanted |= set(manifest.files) | set(manifest.named_files.values())
    blobs = destination / layout.BLOBS
    for path in blobs.glob("*/*") if blobs.is_dir() else []:
        if path.name not in wanted:
            path.unlink()
