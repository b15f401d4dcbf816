"""What an operator relies on in a backup without restoring it: it is whole and says so, a
damaged one is refused with the reason, the second night copies only what is new, secrets stay
out unless asked for (and then only encrypted), and the nightly run leaves its result in the
admin and mails the operator when it fails."""

from __future__ import annotations

import gzip
import json
import os
import pty
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core import mail, serializers
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, models
from django.test import Client
from pytest_django import Settings as SettingsWrapper

from ledgerdrop.accounts.models import Organisation
from ledgerdrop.config.backup import manifest as layout
from ledgerdrop.config.backup import nightly, progress, restore, secrets, snapshot
from ledgerdrop.config.backup.manifest import BackupRefused, Manifest
from ledgerdrop.core import periodic, storage, tasks
from ledgerdrop.core.models import BackupRun
from ledgerdrop.delivery import services as delivery_services
from ledgerdrop.delivery.models import Delivery, Device
from ledgerdrop.documents.models import Document
from ledgerdrop.documents.rules_install import RULES_POINTER
from tests import builders
from tests.conftest import database_url

pytestmark = pytest.mark.django_db(transaction=True)


def _company_with_a_document() -> Document:
    return builders.document(builders.company("Brasserie Ça Déborde – Œuvres SRL"))


def test_a_backup_verifies_whole_with_every_row_and_file_counted(tmp_path: Path) -> None:
    document = _company_with_a_document()

    result = snapshot.take(tmp_path / "backup")
    checked, manifest = restore.verify(tmp_path / "backup")

    assert checked == result.snapshot
    assert manifest.counts["documents.document"] == 1
    assert document.ubl_sha256 in manifest.files and document.pdf_sha256 in manifest.files
    assert manifest.migrations["documents"][0] == "0001_initial"
    rows = gzip.decompress((result.snapshot / layout.DATABASE).read_bytes()).decode("utf-8")
    assert "Brasserie Ça Déborde – Œuvres SRL" in rows  # as written, not escaped


def test_a_second_backup_copies_only_the_new_files(tmp_path: Path) -> None:
    _company_with_a_document()
    first = snapshot.take(tmp_path / "backup")
    again = snapshot.take(tmp_path / "backup")
    storage.put(b"<Invoice>one new file</Invoice>")
    third = snapshot.take(tmp_path / "backup")

    assert first.files_copied == len(first.manifest.files) > 0
    assert again.files_copied == 0
    assert third.files_copied == 1
    assert len(layout.snapshots(tmp_path / "backup")) == 3


@pytest.mark.parametrize(
    ("damage", "said"),
    [
        ("flip a byte of a stored file", "does not match its checksum"),
        ("remove a stored file", "is missing"),
        ("cut the database file", f"the database file {layout.DATABASE} does not match"),
        ("claim a migration of a newer release", "taken by a newer Ledgerdrop"),
    ],
)
def test_a_damaged_backup_is_refused_saying_what_is_wrong(
    tmp_path: Path, damage: str, said: str
) -> None:
    document = _company_with_a_document()
    result = snapshot.take(tmp_path / "backup")
    blob = layout.blob_path(tmp_path / "backup", document.ubl_sha256)
    if damage == "flip a byte of a stored file":
        data = bytearray(blob.read_bytes())
        data[10] ^= 0xFF
        blob.write_bytes(bytes(data))
    elif damage == "remove a stored file":
        blob.unlink()
    elif damage == "cut the database file":
        database = result.snapshot / layout.DATABASE
        database.write_bytes(database.read_bytes()[:-20])
    else:
        manifest = Manifest.read(result.snapshot)
        manifest.migrations["documents"].append("9999_from_the_future")
        manifest.write(result.snapshot)

    with pytest.raises(BackupRefused) as refused:
        restore.verify(tmp_path / "backup")

    assert said in str(refused.value)
    assert "cannot be trusted" in str(refused.value)


def test_backup_verify_says_whole_or_refuses_with_the_reason_and_exit_status_1(
    tmp_path: Path,
) -> None:
    document = _company_with_a_document()
    backup = tmp_path / "backup Été"
    snapshot.take(backup)
    whole = _ledgerdrop(tmp_path / "elsewhere", "backup", "--verify", str(backup))
    layout.blob_path(backup, document.pdf_sha256).unlink()
    damaged = _ledgerdrop(tmp_path / "elsewhere", "backup", "--verify", str(backup))

    assert whole.returncode == 0, whole.stderr
    assert "all match their checksums" in whole.stdout
    assert damaged.returncode == 1
    assert f"the stored file {document.pdf_sha256} is missing" in damaged.stderr
    assert "Traceback" not in damaged.stderr


def test_secrets_stay_out_unless_asked_and_then_only_encrypted(
    tmp_path: Path, settings: SettingsWrapper, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEDGERDROP_SMTP_PASSWORD", "smtp-pässword-42")
    _company_with_a_document()

    plain = snapshot.take(tmp_path / "plain")
    sealed = snapshot.take(tmp_path / "sealed", passphrase="correct horse battery")

    for result in (plain, sealed):
        for path in result.snapshot.iterdir():
            content = path.read_bytes()
            if path.name == layout.DATABASE:
                content = gzip.decompress(content)
            assert settings.SECRET_KEY.encode() not in content, path.name
            assert "smtp-pässword-42".encode() not in content, path.name
    assert plain.manifest.secrets is None
    assert sealed.manifest.secrets is not None
    opened = secrets.open_sealed(
        "correct horse battery",
        sealed.snapshot / layout.SECRETS,
        sealed.manifest.secrets["salt"],
    )
    assert opened["secret_key"] == settings.SECRET_KEY
    assert opened["environment"] == {"LEDGERDROP_SMTP_PASSWORD": "smtp-pässword-42"}
    with pytest.raises(BackupRefused, match="passphrase does not open"):
        secrets.open_sealed(
            "wrong", sealed.snapshot / layout.SECRETS, sealed.manifest.secrets["salt"]
        )


def test_the_nightly_backup_keeps_the_last_ones_and_shows_in_the_admin(
    tmp_path: Path, admin_client: Client
) -> None:
    builders.document(builders.company())
    for _ in range(3):
        storage.put(f"<Invoice>{_}</Invoice>".encode())
        assert nightly.run(tmp_path / "nightly", keep=2)

    kept = layout.snapshots(tmp_path / "nightly")
    assert len(kept) == 2
    wanted = {sha for s in kept for sha in Manifest.read(s).files}
    on_disk = {p.name for p in (tmp_path / "nightly" / layout.BLOBS).glob("*/*")}
    assert on_disk == wanted
    restore.verify(tmp_path / "nightly")
    page = admin_client.get("/admin/core/backuprun/")
    assert page.status_code == 200
    assert kept[-1].name in page.content.decode()
    assert BackupRun.objects.filter(succeeded=True).count() == 3


def test_with_a_backup_folder_set_the_scheduler_queues_the_nightly_backup_and_a_worker_runs_it(
    tmp_path: Path, settings: SettingsWrapper, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The job is registered for this test only: the other tests' schedulers know nothing of it.
    monkeypatch.setattr(periodic, "_registry", dict(periodic.jobs()))
    settings.LEDGERDROP_BACKUP_DIR = str(tmp_path / "nightly")
    nightly.register_periodic_job()
    _company_with_a_document()

    queued = periodic.run_due_jobs()
    tasks.run_worker(stop_when_idle=True, interval=0)

    assert "backup" in queued
    [run] = BackupRun.objects.all()
    assert run.succeeded
    assert [s.name for s in layout.snapshots(tmp_path / "nightly")] == [run.snapshot]


def test_a_failed_nightly_backup_is_in_the_admin_and_mailed_to_the_operator(
    tmp_path: Path, settings: SettingsWrapper
) -> None:
    settings.ADMINS = [("Ledgerdrop operator", "ops@example.be")]
    (tmp_path / "not-a-folder").write_text("a file where the backups should go")

    assert not nightly.run(tmp_path / "not-a-folder", keep=7)

    run = BackupRun.objects.get()
    assert not run.succeeded
    assert run.message
    [message] = mail.outbox
    assert message.to == ["ops@example.be"]
    assert "nightly backup failed" in message.subject
    assert str(tmp_path / "not-a-folder") in message.body


def test_a_backup_of_a_storage_that_lost_a_file_fails_and_leaves_no_snapshot(
    tmp_path: Path, isolated_files: Path
) -> None:
    document = _company_with_a_document()
    (isolated_files / storage.blob_name(document.pdf_sha256)).unlink()

    with pytest.raises(BackupRefused, match="missing from the storage") as refused:
        snapshot.take(tmp_path / "backup")

    assert document.pdf_sha256 in str(refused.value)
    assert layout.snapshots(tmp_path / "backup") == []


def test_a_backup_folder_without_a_snapshot_is_refused(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(BackupRefused, match="holds no backup"):
        restore.verify(tmp_path / "empty")
    partial = tmp_path / "partial" / layout.SNAPSHOTS / f"{layout.PARTIAL}20261130T000000Z"
    partial.mkdir(parents=True)
    (partial / layout.MANIFEST).write_text(json.dumps({"format": 1}))
    with pytest.raises(BackupRefused, match="holds no backup"):
        restore.verify(tmp_path / "partial")


def _ledgerdrop(data_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """A `ledgerdrop` command on the embedded default of the data folder `data_dir`."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("LEDGERDROP_")}
    environment.pop("DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "ledgerdrop.config.cli", *args],
        env={**environment, "LEDGERDROP_DATA_DIR": str(data_dir), **env},
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def _restore(
    source: Path, data_dir: Path, *args: str, **env: str
) -> subprocess.CompletedProcess[str]:
    """`ledgerdrop restore` into the embedded default of a new data folder."""
    return _ledgerdrop(data_dir, "restore", str(source), *args, **env)


def _tables(database: Path) -> list[str]:
    with sqlite3.connect(database) as db:
        return [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]


def test_restore_refuses_a_damaged_backup_and_a_database_that_is_not_empty(
    tmp_path: Path,
) -> None:
    document = _company_with_a_document()
    snapshot.take(tmp_path / "backup")
    layout.blob_path(tmp_path / "backup", document.pdf_sha256).write_bytes(b"%PDF- not it")

    damaged = _restore(tmp_path / "backup", tmp_path / "first")
    left_by_the_refusal = _tables(tmp_path / "first" / "ledgerdrop.sqlite3")
    layout.blob_path(tmp_path / "backup", document.pdf_sha256).unlink()
    snapshot.take(tmp_path / "backup")  # the next night copies the file again
    restored = _restore(tmp_path / "backup", tmp_path / "first")
    again = _restore(tmp_path / "backup", tmp_path / "first")

    assert damaged.returncode == 1
    assert f"the stored file {document.pdf_sha256} does not match its checksum" in damaged.stderr
    assert "Traceback" not in damaged.stderr
    assert left_by_the_refusal == []
    assert restored.returncode == 0, restored.stderr
    assert "documents.document: 1" in restored.stdout
    assert again.returncode == 1
    assert "The database is not empty" in again.stderr


def test_secrets_come_back_only_with_the_passphrase(
    tmp_path: Path, settings: SettingsWrapper, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEDGERDROP_SMTP_PASSWORD", "smtp-pässword-42")
    snapshot.take(tmp_path / "backup", passphrase="correct horse battery")

    wrong = _restore(
        tmp_path / "backup", tmp_path / "wrong", "--include-secrets",
        LEDGERDROP_BACKUP_PASSPHRASE="incorrect horse battery",
    )  # fmt: skip
    right = _restore(
        tmp_path / "backup", tmp_path / "right", "--include-secrets",
        LEDGERDROP_BACKUP_PASSPHRASE="correct horse battery",
    )  # fmt: skip

    assert wrong.returncode == 1
    assert "The passphrase does not open this backup's secrets" in wrong.stderr
    assert _tables(tmp_path / "wrong" / "ledgerdrop.sqlite3") == []
    assert right.returncode == 0, right.stderr
    assert (tmp_path / "right" / "secret_key").read_text() == settings.SECRET_KEY
    restored_env = tmp_path / "right" / secrets.RESTORED_ENVIRONMENT
    assert restored_env.read_text() == "LEDGERDROP_SMTP_PASSWORD=smtp-pässword-42\n"
    assert restored_env.stat().st_mode & 0o077 == 0


def _as_taken_before_source_references(snapshot_folder: Path) -> int:
    """Make a snapshot look taken by the release before delivery's migration 0006 (when a
    delivery had a foreign key to its document and the presets connectors did not exist);
    returns how many migrations that release lacked."""
    manifest = Manifest.read(snapshot_folder)
    delivery = manifest.migrations["delivery"]
    later = delivery[delivery.index("0006_delivery_source_reference") :]
    manifest.migrations["delivery"] = delivery[: -len(later)]
    lacked = len(later) + len(manifest.migrations.pop("connector_presets"))
    database = snapshot_folder / layout.DATABASE
    lines = gzip.decompress(database.read_bytes()).decode().splitlines()
    older = [json.loads(line) for line in lines]
    older = [row for row in older if not row["model"].startswith("connector_presets.")]
    for row in older:
        if row["model"] == "delivery.delivery":
            fields = row["fields"]
            fields["document"] = fields.pop("source_id")
            del fields["source_type"], fields["company"]
    database.write_bytes(gzip.compress("".join(json.dumps(r) + "\n" for r in older).encode()))
    manifest.database_sha256 = layout.sha256_of(database)
    manifest.write(snapshot_folder)
    return lacked


def test_a_backup_of_an_older_release_is_brought_up_to_this_ones_schema(tmp_path: Path) -> None:
    document = _company_with_a_document()
    device = Device.objects.create(firm=builders.firm(), name="PC Zoë", root_folder="C:\\BOB")
    delivery = delivery_services.queue_delivery(
        device,
        relative_path="Société/ventes/Facture n°1.xml",
        blob=storage.Blob(document.ubl_sha256, 1),
        source=document,
        company=document.company,
    )
    default_storage.save(RULES_POINTER, ContentFile(document.ubl_sha256.encode()))
    result = snapshot.take(tmp_path / "backup")
    lacked = _as_taken_before_source_references(result.snapshot)
    restored_db = tmp_path / "restored" / "ledgerdrop.sqlite3"

    restored = _restore(tmp_path / "backup", tmp_path / "restored")

    assert restored.returncode == 0, restored.stderr
    assert f"then applied {lacked} migration(s) of this release" in restored.stdout
    with sqlite3.connect(restored_db) as db:
        row = db.execute(
            "SELECT source_type, source_id, company_id, relative_path FROM delivery_delivery"
            " WHERE id = ?",
            [delivery.pk],
        ).fetchone()
    assert row == ("documents.document", document.pk, document.company_id, delivery.relative_path)
    files = tmp_path / "restored" / "files"
    assert (files / RULES_POINTER).read_text() == document.ubl_sha256
    assert (files / storage.blob_name(document.pdf_sha256)).read_bytes() == storage.read(
        document.pdf_sha256
    )


def _rows(model: type[models.Model]) -> dict[Any, dict[str, Any]]:
    return {
        row["pk"]: row["fields"]
        for row in serializers.serialize("python", model._base_manager.order_by("pk"))
    }


@pytest.mark.postgresql
def test_a_backup_of_the_embedded_default_comes_back_whole_in_postgresql(tmp_path: Path) -> None:
    """The way up from SQLite: its backup restored into an empty PostgreSQL database, every
    row and file equal, and the next row numbered after the restored ones."""
    document = _company_with_a_document()
    device = Device.objects.create(firm=builders.firm(), name="PC Zoë", root_folder="C:\\BOB")
    delivery_services.queue_delivery(
        device, relative_path="Société/ventes/Facture n°1.xml",
        blob=storage.Blob(document.ubl_sha256, 1), source=document, company=document.company,
    )  # fmt: skip
    original = {model: _rows(model) for model in (Organisation, Document, Delivery)}
    # The SQLite server: this database restored into an embedded default, then backed up.
    snapshot.take(tmp_path / "from PostgreSQL")
    assert _restore(tmp_path / "from PostgreSQL", tmp_path / "sqlite").returncode == 0
    backed_up = _ledgerdrop(tmp_path / "sqlite", "backup", str(tmp_path / "from SQLite"))
    assert backed_up.returncode == 0, backed_up.stderr
    assert Manifest.read(layout.snapshot_folder(tmp_path / "from SQLite")).engine == "sqlite"
    with connection.cursor() as cursor:  # a new, empty PostgreSQL database
        cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    connection.close()
    ContentType.objects.clear_cache()

    restored = _restore(
        tmp_path / "from SQLite", tmp_path / "postgresql", DATABASE_URL=database_url()
    )

    assert restored.returncode == 0, restored.stderr
    assert {model: _rows(model) for model in original} == original
    files = tmp_path / "postgresql" / "files"
    for sha256 in (document.ubl_sha256, document.pdf_sha256):
        assert (files / storage.blob_name(sha256)).read_bytes() == storage.read(sha256)
    later = delivery_services.queue_delivery(
        Device.objects.get(), relative_path="Société/ventes/Facture n°2.xml",
        blob=storage.Blob(document.pdf_sha256, 1),
    )  # fmt: skip
    assert later.pk > max(original[Delivery])


def test_backup_and_restore_say_at_the_end_what_they_saved_and_restored_and_where(
    tmp_path: Path,
) -> None:
    document = _company_with_a_document()
    stored_bytes = document.ubl_size + document.pdf_size
    snapshot.take(tmp_path / "backup")

    restored = _restore(tmp_path / "backup", tmp_path / "restored")
    backed_up = _ledgerdrop(tmp_path / "restored", "backup", str(tmp_path / "again"))

    assert restored.returncode == 0, restored.stderr
    assert f"into the sqlite database {tmp_path / 'restored'}" in restored.stdout
    assert f"the files folder {tmp_path / 'restored' / 'files'}" in restored.stdout
    assert "  documents.document: 1\n" in restored.stdout
    assert f"  stored files: 2 ({progress.size(stored_bytes)})\n" in restored.stdout
    assert backed_up.returncode == 0, backed_up.stderr
    assert f"Backup {tmp_path / 'again' / layout.SNAPSHOTS}" in backed_up.stdout
    size = progress.size(stored_bytes)
    assert f"2 stored files ({size}; 2 new, {size} copied)" in backed_up.stdout
    assert f"of the sqlite database {tmp_path / 'restored'}" in backed_up.stdout
    # Not on a terminal (a log, a cron mail): the summary only.
    assert restored.stderr == backed_up.stderr == ""


def test_on_a_terminal_backup_and_restore_show_the_rows_and_files_as_they_go(
    tmp_path: Path,
) -> None:
    document = _company_with_a_document()
    snapshot.take(tmp_path / "backup")

    restoring = _on_a_terminal(tmp_path / "restored", "restore", str(tmp_path / "backup"))
    backing_up = _on_a_terminal(tmp_path / "restored", "backup", str(tmp_path / "again"))

    size = progress.size(document.ubl_size + document.pdf_size)
    assert f"Checking the stored files: 2 of 2 files, {size}\r\n" in restoring
    assert f"Storing the files: 2 of 2 files, {size}\r\n" in restoring
    assert "Loading the rows: " in restoring
    assert "Writing the rows: " in backing_up
    assert f"Copying the stored files: 2 of 2 files looked at, {size}\r\n" in backing_up


def test_sizes_read_as_an_it_person_reads_them() -> None:
    assert [progress.size(count) for count in (0, 999, 1000, 1_234_567, 5 * 10**12)] == [
        "0 B", "999 B", "1.0 kB", "1.2 MB", "5.0 TB",
    ]  # fmt: skip


def _on_a_terminal(data_dir: Path, *args: str) -> str:
    """What a `ledgerdrop` command writes to its standard error when that is a terminal: a
    pseudo-terminal here, read to its end."""
    main, side = pty.openpty()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("LEDGERDROP_")}
    environment.pop("DATABASE_URL", None)
    with subprocess.Popen(
        [sys.executable, "-m", "ledgerdrop.config.cli", *args],
        env={**environment, "LEDGERDROP_DATA_DIR": str(data_dir)},
        stdout=subprocess.DEVNULL, stderr=side,
    ) as command:  # fmt: skip
        os.close(side)
        written = b""
        while True:
            try:
                chunk = os.read(main, 4096)
            except OSError:  # the command has ended and closed the terminal
                break
            if not chunk:
                break
            written += chunk
        assert command.wait(timeout=300) == 0, written
    os.close(main)
    return written.decode()
