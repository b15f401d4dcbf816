"""The one download for Windows: the zip built from the lock file runs on its own (its own
Python, its own packages) — unpacked, it pairs and places a document through its launcher."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledgerdrop.connectors.bob_demat import services as bob_demat
from ledgerdrop.core import storage
from ledgerdrop.delivery import services as delivery_services
from ledgerdrop.delivery.models import Delivery, Device
from tests import builders
from tests.conftest import LiveService
from tests.windows.conftest import DRIVE_C, PREFIX, ROOT, windows_path

pytestmark = pytest.mark.system


@pytest.fixture(scope="module")
def built_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    downloads = tmp_path_factory.mktemp("downloads")
    subprocess.run(
        [sys.executable, ROOT / "scripts" / "windows" / "build.py", "zip"],
        env={**os.environ, "LEDGERDROP_DOWNLOADS_DIR": str(downloads)},
        check=True, capture_output=True,
    )  # fmt: skip
    return downloads / "ledgerdrop-agent-windows.zip"


@pytest.fixture
def unpacked(built_zip: Path) -> Iterator[Path]:
    folder = DRIVE_C / "ledgerdrop-tests" / uuid.uuid4().hex[:12]
    with zipfile.ZipFile(built_zip) as archive:
        archive.extractall(folder / "Ledgerdrop")
    # Wine 8 lacks ProcessPrng, which Windows 10 and 11 have: the test-only stand-in.
    shutil.copy(
        ROOT / ".tools/windows/current/python/bcryptprimitives.dll",
        folder / "Ledgerdrop/python",
    )
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def launch(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`ledgerdrop-agent.cmd ARGS` as a Windows command prompt runs it."""
    launcher = windows_path(folder / "Ledgerdrop" / "ledgerdrop-agent.cmd")
    return subprocess.run(
        ["/usr/lib/wine/wine64", "cmd.exe", "/c", launcher, *args],
        env={**os.environ, "WINEPREFIX": str(PREFIX), "WINEDEBUG": "-all",
             "PYTHONIOENCODING": "utf-8", "LEDGERDROP_AGENT_HOME": windows_path(folder / "home")},
        capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL,
    )  # fmt: skip


def test_the_zip_holds_python_the_agent_and_a_launcher(built_zip: Path) -> None:
    names = set(zipfile.ZipFile(built_zip).namelist())

    assert {"ledgerdrop-agent.cmd", "python/python.exe", "python/python313._pth"} <= names
    assert "lib/ledgerdrop_agent/cli.py" in names
    assert any(n.startswith("lib/pydantic_core/") and n.endswith(".pyd") for n in names)
    assert not any(n.endswith(".so") for n in names), "Linux binaries in the Windows zip"


def test_the_unpacked_zip_runs_with_nothing_else_installed(unpacked: Path) -> None:
    version = launch(unpacked, "--version")
    status = launch(unpacked, "status")

    assert version.returncode == 0, version.stdout + version.stderr
    assert version.stdout.startswith("ledgerdrop-agent "), version.stdout
    assert "Paired:        no" in status.stdout, status.stdout + status.stderr


def test_the_unpacked_zip_pairs_and_places_a_document(
    unpacked: Path, live_service: LiveService
) -> None:
    firm = builders.firm()
    company = builders.company()
    builders.connected_dossier(firm, company, code="WIN01")
    invoice = builders.document(company, number="2026-0099")
    _, key = delivery_services.mint_enrolment_key(firm, by=None)
    root = unpacked / "bob-demat"
    root.mkdir()

    paired = launch(unpacked, "pair", "--server", live_service.url, "--enrolment-key", key)
    device = Device.objects.get(firm=firm)
    bob_demat.set_default_device(firm, device, by=None)
    [delivery] = bob_demat.send(firm, [invoice], device, by=None)
    placed = launch(unpacked, "run", "--once", "--root", windows_path(root))

    assert paired.returncode == 0, paired.stdout + paired.stderr
    assert placed.returncode == 0, placed.stdout + placed.stderr
    [file] = (root / "WIN01" / "ventes").iterdir()
    assert file.read_bytes() == storage.read(invoice.ubl_sha256)
    assert hashlib.sha256(file.read_bytes()).hexdigest() == invoice.ubl_sha256
    delivery.refresh_from_db()
    assert delivery.state == Delivery.State.DELIVERED
