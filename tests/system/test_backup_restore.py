"""Backup and restore with the real thing: a running server backed up while it is written to
and restored elsewhere, every row and file equal; on PostgreSQL with object storage too; and
an older backup restored after the downloader has placed more since — nothing placed twice,
nothing deleted, every delivery delivered in the end.

"Elsewhere" is a new data folder (or bucket) and the test database emptied: the test process
then reads the restored rows through its own models."""

from __future__ import annotations

import random
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core import serializers
from django.db import connection, models
from pytest_django import Settings as SettingsWrapper

from ledgerdrop.accounts.models import Organisation
from ledgerdrop.core import storage
from ledgerdrop.delivery import services as delivery_services
from ledgerdrop.delivery.models import Delivery, Device
from ledgerdrop.documents.models import Document
from tests import builders
from tests.conftest import Agent, LiveService, store_files_beside
from tests.object_storage import Bucket, create_bucket
from tests.system.transfer import paired_device, placed_files, queue_documents, wait_until

pytestmark = pytest.mark.system

COMPANY = "Brasserie Ça Déborde – Œuvres & Fils SRL"


def _ledgerdrop(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ledgerdrop.config.cli", *args],
        env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def _empty_the_database() -> None:
    """Drop every table of the test database (the server is stopped): a new, empty one."""
    if connection.vendor == "sqlite":
        name = connection.settings_dict["NAME"]
        connection.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{name}{suffix}").unlink(missing_ok=True)
    else:
        with connection.cursor() as cursor:
            cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        connection.close()
    ContentType.objects.clear_cache()


def _rows(model: type[models.Model]) -> dict[Any, dict[str, Any]]:
    return {
        row["pk"]: row["fields"]
        for row in serializers.serialize("python", model._base_manager.order_by("pk"))
    }


def _written_during(run: Callable[[], None], device: Device) -> int:
    """Queue deliveries with accented names one after the other while `run` runs, and for a
    while after; returns how many were queued before `run` started."""
    stop = threading.Event()
    queued = [0]

    def write() -> None:
        try:
            while not stop.is_set():
                n = queued[0]
                data = f"<Invoice><ID>{n}</ID><Note>Café n°{n} – Zoë</Note></Invoice>".encode()
                delivery_services.queue_delivery(
                    device,
                    relative_path=f"Dossier Zoë/achats/Facture n°{n} – café.xml",
                    blob=storage.put(data),
                )
                queued[0] += 1
        finally:
            connection.close()

    writer = threading.Thread(target=write)
    writer.start()
    try:
        wait_until(lambda: queued[0] >= 20, 60, "the first writes")
        before = queued[0]
        run()
        at_end = queued[0]
        wait_until(lambda: queued[0] >= at_end + 5, 60, "writes after the backup")
    finally:
        stop.set()
        writer.join()
    return before


def _backup_during_writes_then_restore(
    agent: Agent,
    service: LiveService,
    restored_env: dict[str, str],
    read_restored: Callable[[str], bytes],
    tmp_path: Path,
) -> None:
    device = paired_device(agent)
    company = builders.company(COMPANY)
    documents = [builders.document(company) for _ in range(3)]
    backup = tmp_path / "backup Été"
    outcome: list[subprocess.CompletedProcess[str]] = []

    before = _written_during(
        lambda: outcome.append(_ledgerdrop("backup", str(backup), env=service.env)), device
    )
    [backed_up] = outcome
    assert backed_up.returncode == 0, backed_up.stderr
    verified = _ledgerdrop("backup", "--verify", str(backup), env=service.env)
    assert verified.returncode == 0, verified.stderr
    assert "all match their checksums" in verified.stdout
    original = {model: _rows(model) for model in (Organisation, Document, Delivery)}
    files = {d.sha256: storage.read(d.sha256) for d in Delivery.objects.all()}
    for document in documents:
        for sha256 in (document.ubl_sha256, document.pdf_sha256):
            files[sha256] = storage.read(sha256)
    service.stop()
    _empty_the_database()

    restored = _ledgerdrop("restore", str(backup), env=restored_env)

    assert restored.returncode == 0, restored.stderr
    assert "delivery.delivery:" in restored.stdout
    deliveries = _rows(Delivery)
    # One instant: every delivery queued before the backup began, none missing in between.
    assert len(deliveries) >= before + 20
    assert sorted(deliveries) == [pk for pk in sorted(original[Delivery]) if pk <= max(deliveries)]
    assert deliveries == {pk: original[Delivery][pk] for pk in deliveries}
    assert _rows(Document) == original[Document]
    assert _rows(Organisation) == original[Organisation]
    assert Organisation.objects.filter(name__startswith=COMPANY).exists()
    shas = {row["sha256"] for row in deliveries.values()}
    shas |= {d.ubl_sha256 for d in documents} | {d.pdf_sha256 for d in documents}
    assert {sha: read_restored(sha) for sha in shas} == {sha: files[sha] for sha in shas}


def test_a_live_server_backed_up_during_writes_comes_back_whole_elsewhere(
    agent: Agent, live_service: LiveService, tmp_path: Path
) -> None:
    restored_data = tmp_path / "restored"
    env = {**live_service.env, "LEDGERDROP_DATA_DIR": str(restored_data)}

    def read_restored(sha256: str) -> bytes:
        return (restored_data / "files" / storage.blob_name(sha256)).read_bytes()

    _backup_during_writes_then_restore(agent, live_service, env, read_restored, tmp_path)


@pytest.mark.postgresql
def test_on_postgresql_with_object_storage_a_live_server_comes_back_whole_in_a_new_bucket(
    agent: Agent,
    live_service: LiveService,
    s3_bucket: Bucket,
    s3_endpoint: str,
    settings: SettingsWrapper,
    tmp_path: Path,
) -> None:
    live_service.stop()
    live_service.env.update(
        {**s3_bucket.environment(), "LEDGERDROP_SECRET_KEY": settings.SECRET_KEY}
    )
    live_service.start()
    target = create_bucket(s3_endpoint)
    env = {
        **live_service.env,
        **target.environment(),
        "LEDGERDROP_DATA_DIR": str(tmp_path / "restored"),
    }

    def read_restored(sha256: str) -> bytes:
        answer = target.client().get_object(Bucket=target.name, Key=storage.blob_name(sha256))
        data: bytes = answer["Body"].read()
        return data

    _backup_during_writes_then_restore(agent, live_service, env, read_restored, tmp_path)


def test_an_older_backup_restored_after_the_downloader_placed_more_places_nothing_twice(
    agent: Agent, live_service: LiveService, settings: SettingsWrapper, tmp_path: Path
) -> None:
    rng = random.Random(17)
    device = paired_device(agent)
    once = ("run", "--once", "--root", str(agent.root))
    sources = queue_documents(device, 6, rng=rng)
    assert agent.run(*once).returncode == 0
    acknowledged_after = queue_documents(device, 4, rng=rng, start=6)
    backup = _ledgerdrop("backup", str(tmp_path / "backup"), env=live_service.env)
    assert backup.returncode == 0, backup.stderr
    assert agent.run(*once).returncode == 0
    forgotten = queue_documents(device, 3, rng=rng, start=10)
    assert agent.run(*once).returncode == 0
    sources |= acknowledged_after | forgotten
    assert sorted(p.relative_to(agent.root).as_posix() for p in placed_files(agent.root)) == sorted(
        sources
    )
    placed_at = {p: p.stat().st_mtime_ns for p in placed_files(agent.root)}

    live_service.stop()
    _empty_the_database()
    live_service.env["LEDGERDROP_DATA_DIR"] = str(tmp_path / "restored")
    restored = _ledgerdrop("restore", str(tmp_path / "backup"), env=live_service.env)
    assert restored.returncode == 0, restored.stderr
    live_service.data_dir = tmp_path / "restored"
    store_files_beside(live_service, settings)
    live_service.start()
    device = Device.objects.get(pk=device.pk)
    back = Delivery.objects.filter(device=device)
    # The backup forgot the acknowledgements that came after it, and the last deliveries.
    assert back.filter(state=Delivery.State.QUEUED).count() == len(acknowledged_after)
    assert back.count() == len(sources) - len(forgotten)
    # The restored server queues new files; their ids are those of the forgotten deliveries.
    later = queue_documents(device, 3, rng=rng, start=20)

    again = agent.run(*once)

    assert again.returncode == 0, again.stdout + again.stderr
    sources |= later
    on_disk = {p.relative_to(agent.root).as_posix(): p for p in placed_files(agent.root)}
    assert sorted(on_disk) == sorted(sources), "a file placed twice has a suffix; none may"
    assert all(on_disk[path].read_bytes() == data for path, data in sources.items())
    # The files placed before the restore were neither placed again nor removed.
    assert {p: p.stat().st_mtime_ns for p in placed_at} == placed_at
    wait_until(lambda: not back.exclude(state=Delivery.State.DELIVERED).exists(), 30, "delivered")
    assert back.count() == len(sources) - len(forgotten)
