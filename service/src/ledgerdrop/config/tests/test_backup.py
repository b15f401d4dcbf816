"""What an operator relies on in a backup without restoring it: it is whole and says so, a
damaged one is refused with the reason, the second night copies only what is new, secrets stay
out unless asked for (and then only encrypted), and the nightly run leaves its result in the
admin and mails the operator when it fails."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core import mail
from django.test import Client
from pytest_django import Settings as SettingsWrapper

from ledgerdrop.config.backup import manifest as layout
from ledgerdrop.config.backup import nightly, restore, secrets, snapshot
from ledgerdrop.config.backup.manifest import BackupRefused, Manifest
from ledgerdrop.core import storage
from ledgerdrop.core.models import BackupRun
from ledgerdrop.documents.models import Document
from tests import builders

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
    rows = (result.snapshot / layout.DATABASE).read_bytes()
    assert rows.startswith(b"\x1f\x8b")  # gzip: names with accents are inside, as UTF-8


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
                import gzip

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


def test_a_backup_folder_without_a_snapshot_is_refused(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(BackupRefused, match="holds no backup"):
        restore.verify(tmp_path / "empty")
    partial = tmp_path / "partial" / layout.SNAPSHOTS / f"{layout.PARTIAL}20261130T000000Z"
    partial.mkdir(parents=True)
    (partial / layout.MANIFEST).write_text(json.dumps({"format": 1}))
    with pytest.raises(BackupRefused, match="holds no backup"):
        restore.verify(tmp_path / "partial")
