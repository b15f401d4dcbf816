"""`ledgerdrop restore SRC` and `ledgerdrop backup --verify SRC`.

A restore trusts nothing it has not checked: every file against its checksum, the schema
against the code's, the target for emptiness. Only then are the files stored, the rows loaded
into the backup's own schema (through the models of that schema) and the migrations applied up
to this release's. Deliveries come back in the state they had when the backup was taken; the
downloaders, which remember what they placed, acknowledge again without placing twice."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.apps.registry import Apps
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.core.management.color import no_style
from django.core.serializers import python
from django.db import connection, models, transaction

from ledgerdrop.config.backup import manifest as layout
from ledgerdrop.config.backup import schema, secrets
from ledgerdrop.config.backup.manifest import BackupRefused, Manifest
from ledgerdrop.config.backup.progress import Progress
from ledgerdrop.core import storage


@dataclass
class Report:
    snapshot: Path
    manifest: Manifest
    migrated: list[str] = field(default_factory=list)
    told: list[str] = field(default_factory=list)
    bytes_stored: int = 0


def verify(source: Path, progress: Progress | None = None) -> tuple[Path, Manifest]:
    """Check a snapshot whole, or refuse it saying why."""
    snapshot = layout.snapshot_folder(source)
    manifest = Manifest.read(snapshot)
    found = layout.problems(snapshot, manifest, progress)
    if newer := schema.unknown(manifest.migrations):
        found.append(
            f"it was taken by a newer Ledgerdrop ({manifest.ledgerdrop_version}; unknown "
            f"migrations {', '.join(newer[:3])}): restore it with that release or a later one"
        )
    if found:
        shown = "\n  - ".join(found[:20])
        more = f"\n  … and {len(found) - 20} more" if len(found) > 20 else ""
        raise BackupRefused(f"The backup {snapshot} cannot be trusted:\n  - {shown}{more}")
    return snapshot, manifest


def restore(
    source: Path, *, passphrase: str | None = None, progress: Progress | None = None
) -> Report:
    """Put a verified snapshot back; `progress` shows the files and rows as they go."""
    progress = progress or Progress()
    snapshot, manifest = verify(source, progress)
    if passphrase is not None and manifest.secrets is None:
        raise BackupRefused("This backup holds no secrets (it was taken without them).")
    if tables := connection.introspection.table_names():
        raise BackupRefused(
            f"The database is not empty ({len(tables)} tables, e.g. {tables[0]}): a backup is "
            "restored into a new, empty database only."
        )
    sealed = None
    if passphrase is not None and manifest.secrets is not None:
        # Opened first: a wrong passphrase is refused before anything is written.
        sealed = secrets.open_sealed(
            passphrase, snapshot / layout.SECRETS, manifest.secrets["salt"]
        )
    report = Report(snapshot=snapshot, manifest=manifest)
    report.bytes_stored = _store_files(layout.backup_root_of(snapshot), manifest, progress)
    historical = schema.migrate_to(manifest.migrations)
    _load_rows(snapshot / layout.DATABASE, historical, manifest, progress)
    report.migrated = schema.unapplied(manifest.migrations)
    call_command("migrate", interactive=False, verbosity=0)
    if sealed is not None:
        report.told = secrets.put_back(sealed)
    return report


def _store_files(root: Path, manifest: Manifest, progress: Progress) -> int:
    """Store every file of the snapshot; returns how many bytes that was."""
    total = len(manifest.files) + len(manifest.named_files)
    progress.start("Storing the files", unit="files", total=total)
    # Stored files are named by their content: one already there holds the same bytes.
    stored = 0
    for sha256 in manifest.files:
        data = layout.blob_path(root, sha256).read_bytes()
        storage.put(data)
        stored += len(data)
        progress.step(len(data))
    for name, sha256 in manifest.named_files.items():
        data = layout.blob_path(root, sha256).read_bytes()
        if default_storage.exists(name):
            default_storage.delete(name)
        default_storage.save(name, ContentFile(data))
        stored += len(data)
        progress.step(len(data))
    progress.finish()
    return stored


class _HistoricalDeserializer(python.Deserializer):
    """Django's deserializer, with the models of the backup's schema rather than the code's."""

    def __init__(self, objects: Iterator[dict[str, object]], historical: Apps) -> None:
        super().__init__(objects, ignorenonexistent=True)
        self.historical = historical

    def _get_model_from_node(self, model_identifier: str) -> type[models.Model]:
        return self.historical.get_model(model_identifier)


def _load_rows(path: Path, historical: Apps, manifest: Manifest, progress: Progress) -> None:
    loaded: set[type[models.Model]] = set()
    progress.start("Loading the rows", unit="rows", total=sum(manifest.counts.values()))
    with (
        gzip.open(path, "rt", encoding="utf-8") as stream,
        transaction.atomic(),
        connection.constraint_checks_disabled(),
    ):
        rows = (json.loads(line) for line in stream if line.strip())
        for deserialized in _HistoricalDeserializer(rows, historical):
            deserialized.save()
            loaded.add(type(deserialized.object))
            progress.step()
        progress.finish()
        tables = [model._meta.db_table for model in loaded]
        connection.check_constraints(table_names=tables)
        # Rows came with their ids: the next new row must not take one of them.
        with connection.cursor() as cursor:
            for statement in connection.ops.sequence_reset_sql(no_style(), list(loaded)):
                cursor.execute(statement)
