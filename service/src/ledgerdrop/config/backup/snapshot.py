"""`ledgerdrop backup DEST`: one consistent snapshot while the service runs.

The database is read at one instant, in one transaction that stops no writer: on SQLite a
deferred read transaction (WAL keeps the writers going and shows it none of their commits), on
PostgreSQL a REPEATABLE READ, READ ONLY one. The
rows go out through the models (Django's serializer), so that a restore can load them into any
supported database and bring them up to a newer schema with the migrations. Stored files come
after the rows: they are never changed or removed, so every file a row names is there."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import os
import shutil
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

from django.apps import apps
from django.core.files.storage import default_storage
from django.core.serializers import jsonl
from django.db import connection, models, transaction
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

from ledgerdrop.config.backup import manifest as layout
from ledgerdrop.config.backup import schema, secrets
from ledgerdrop.config.backup.manifest import BackupRefused, Manifest
from ledgerdrop.config.backup.progress import Progress
from ledgerdrop.core.files import write_durably

# Sessions are bearer secrets and worth nothing in another place: people sign in again.
LEFT_OUT = {"sessions.session"}


@dataclass(frozen=True)
class Result:
    snapshot: Path
    manifest: Manifest
    files_copied: int
    bytes_copied: int


def take(
    destination: Path, *, passphrase: str | None = None, progress: Progress | None = None
) -> Result:
    """Write a snapshot into `destination` (made if missing); files already there from an
    earlier backup are not copied again. `progress` shows the rows and files as they go."""
    progress = progress or Progress()
    stamp = timezone.now().strftime("%Y%m%dT%H%M%S%fZ")
    partial = destination / layout.SNAPSHOTS / f"{layout.PARTIAL}{stamp}"
    partial.mkdir(parents=True, mode=0o700)
    try:
        with _consistent_read():
            migrations = _applied_migrations()
            counts, named_by_rows = _serialize(partial / layout.DATABASE, progress)
        files, named, copied = _copy_files(destination, progress)
        if missing := sorted(named_by_rows - set(files)):
            raise BackupRefused(
                f"{len(missing)} stored file(s) that rows name are missing from the storage "
                f"(e.g. {missing[0]}): the storage is damaged; no snapshot was written."
            )
        manifest = Manifest(
            ledgerdrop_version=version("ledgerdrop"),
            created_at=timezone.now().isoformat(),
            engine=connection.vendor,
            migrations=migrations,
            database_sha256=layout.sha256_of(partial / layout.DATABASE),
            counts=counts,
            files=files,
            named_files=named,
        )
        if passphrase is not None:
            salt = secrets.seal(passphrase, partial / layout.SECRETS)
            sealed = layout.sha256_of(partial / layout.SECRETS)
            manifest.secrets = {"salt": salt, "sha256": sealed}
        manifest.write(partial)
        final = partial.with_name(stamp)
        partial.rename(final)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return Result(
        snapshot=final, manifest=manifest, files_copied=copied.count, bytes_copied=copied.bytes
    )


@contextmanager
def _consistent_read() -> Iterator[None]:
    """While the block runs, this process's connection sees the data of one instant."""
    connection.ensure_connection()
    if connection.vendor == "sqlite":
        # A DEFERRED read transaction, begun on the driver's connection behind Django's back
        # (Django's own would be IMMEDIATE and hold the write lock): in WAL mode the writers go
        # on while it reads, and it sees none of their commits.
        raw = connection.connection
        raw.execute("BEGIN DEFERRED")
        try:
            yield
        finally:
            raw.execute("ROLLBACK")
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


def _applied_migrations() -> dict[str, list[str]]:
    recorder = MigrationRecorder(connection)
    applied: dict[str, list[str]] = {}
    for app, name in sorted(recorder.applied_migrations()):
        applied.setdefault(app, []).append(name)
    if missing := schema.unapplied(applied):
        raise BackupRefused(
            f"The database lacks {len(missing)} migration(s) of this release "
            f"({', '.join(missing[:3])}): run `ledgerdrop migrate` first."
        )
    return applied


def backed_up_models() -> list[type[models.Model]]:
    return [
        model
        for model in apps.get_models()
        if model._meta.managed and not model._meta.proxy and model._meta.label_lower not in LEFT_OUT
    ]


class _ExactSerializer(jsonl.Serializer):
    """Django's JSON Lines serializer (one row a line, read back one at a time), but with the
    microseconds of times, which its encoder cuts to milliseconds: a restored row equals the
    backed-up one to the last digit."""

    def _value_from_field(self, obj: models.Model, field: models.Field[Any, Any]) -> Any:
        value = field.value_from_object(obj)
        if isinstance(value, dt.datetime | dt.time):
            return value.isoformat()
        return super()._value_from_field(obj, field)  # type: ignore[misc]


def _serialize(path: Path, progress: Progress) -> tuple[dict[str, int], set[str]]:
    """Write every row to `path`; returns the rows per model and the stored files they name
    (the fields `…sha256`)."""
    counts: Counter[str] = Counter()
    named: set[str] = set()
    progress.start("Writing the rows", unit="rows")

    def rows() -> Iterator[models.Model]:
        for model in backed_up_models():
            counts[model._meta.label_lower] += 0
            query = model._base_manager.order_by(model._meta.pk.name)
            for row in query.iterator(chunk_size=2000):
                counts[model._meta.label_lower] += 1
                progress.step()
                named.update(
                    value
                    for field in model._meta.concrete_fields
                    if field.name.endswith("sha256") and (value := getattr(row, field.attname))
                )
                yield row

    with gzip.open(path, "wt", encoding="utf-8") as stream:
        _ExactSerializer().serialize(rows(), stream=stream, ensure_ascii=False)
        stream.flush()
    with path.open("rb") as written:
        os.fsync(written.fileno())
    progress.finish()
    return dict(counts), named


def _stored_names(folder: str = "") -> Iterator[str]:
    try:
        subfolders, names = default_storage.listdir(folder)
    except FileNotFoundError:  # a data folder that has stored nothing yet
        return
    for name in names:
        # A dot file is a write in progress (core.files.write_durably), not a stored file.
        if not name.startswith("."):
            yield f"{folder}/{name}" if folder else name
    for sub in subfolders:
        yield from _stored_names(f"{folder}/{sub}" if folder else sub)


@dataclass
class _Copied:
    count: int = 0
    bytes: int = 0


def _copy_files(
    destination: Path, progress: Progress
) -> tuple[dict[str, int], dict[str, str], _Copied]:
    """Copy every stored file not yet in the backup folder; returns the blobs (SHA-256 →
    size), the other named files (name → SHA-256) and how many files and bytes were copied."""
    files: dict[str, int] = {}
    named: dict[str, str] = {}
    copied = _Copied()
    # Listed first, so that the progress says how many there are to go through.
    names = list(_stored_names())
    progress.start("Copying the stored files", unit="files looked at", total=len(names))
    for name in names:
        parts = name.split("/")
        is_blob = len(parts) == 3 and parts[0] == "blobs" and len(parts[2]) == 64
        known = is_blob and layout.blob_path(destination, parts[2]).exists()
        if known:
            files[parts[2]] = layout.blob_path(destination, parts[2]).stat().st_size
            progress.step()
            continue
        with default_storage.open(name, "rb") as stream:
            data = stream.read()
        sha256 = hashlib.sha256(data).hexdigest()
        if is_blob and sha256 != parts[2]:
            raise BackupRefused(f"The stored file {name} does not match its name: it is damaged.")
        target = layout.blob_path(destination, sha256)
        written = 0
        if not target.exists():
            write_durably(target, data)
            written = len(data)
            copied.count += 1
            copied.bytes += written
        progress.step(written)
        if is_blob:
            files[sha256] = len(data)
        else:
            named[name] = sha256
    progress.finish()
    return files, named, copied
