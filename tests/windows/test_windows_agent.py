"""The Windows downloader against the real service: pairing, placing in C:\\…\\<code>\\ventes byte
for byte, surviving kills mid-transfer, and resuming after the machine slept."""

from __future__ import annotations

import random
import signal
import time

import pytest

from ledgerdrop.core import storage
from ledgerdrop.delivery import services as delivery_services
from ledgerdrop.delivery.models import Delivery
from tests.system.test_one_document_end_to_end import (  # the Linux tests, run by Windows
    test_a_sent_invoice_lands_in_the_dossiers_ventes_folder_byte_for_byte,
    test_running_the_downloader_again_places_nothing_twice,
)
from tests.system.transfer import (
    all_delivered,
    assert_delivered_exactly_once,
    paired_device,
    placed_files,
    queue_documents,
    wait_until,
)
from tests.windows.conftest import WindowsAgent, windows_path

pytestmark = pytest.mark.system

__all__ = [
    "test_a_sent_invoice_lands_in_the_dossiers_ventes_folder_byte_for_byte",
    "test_running_the_downloader_again_places_nothing_twice",
]


def test_the_device_is_listed_as_windows_and_uses_its_windows_main_folder(
    agent: WindowsAgent,
) -> None:
    device = paired_device(agent)
    delivery_services.update_device(device, root_folder=windows_path(agent.root), by=None)
    sources = queue_documents(device, 6, rng=random.Random(1))

    result = agent.run("run", "--once")  # no --root: the folder set on the server
    status = agent.run("status")

    assert result.returncode == 0, result.stdout + result.stderr
    device.refresh_from_db()
    assert device.os.startswith("Windows"), device.os
    assert_delivered_exactly_once(agent.root, sources, device)
    assert windows_path(agent.root) in status.stdout, status.stdout
    assert "Placed:        6" in status.stdout


def test_killing_the_windows_agent_mid_transfer_places_every_file_exactly_once(
    agent: WindowsAgent,
) -> None:
    rng = random.Random(5)
    device = paired_device(agent)
    sources: dict[str, bytes] = {}
    killed_mid_transfer = 0
    for round_ in range(3):
        sources |= queue_documents(device, 40, rng=rng, start=round_ * 40)
        before = len(placed_files(agent.root))
        process = agent.start("run", "--root", str(agent.root))
        target = before + rng.randint(1, 40)
        deadline = time.monotonic() + 60
        while len(placed_files(agent.root)) < target and time.monotonic() < deadline:
            assert process.poll() is None, process.communicate()[0]
            time.sleep(0.005)
        if not all_delivered(device):
            killed_mid_transfer += 1
        process.send_signal(signal.SIGKILL)  # as Task Manager's "End task" would
        process.wait()

    result = agent.run("run", "--once", "--root", str(agent.root))

    assert result.returncode == 0, result.stdout + result.stderr
    assert killed_mid_transfer >= 2, "the kills should land during the transfer"
    assert_delivered_exactly_once(agent.root, sources, device)


def test_after_the_machine_slept_the_agent_picks_up_what_arrived_meanwhile(
    agent: WindowsAgent,
) -> None:
    rng = random.Random(9)
    device = paired_device(agent)
    process = agent.start("run", "--root", str(agent.root))
    try:
        sources = queue_documents(device, 3, rng=rng)
        wait_until(lambda: all_delivered(device), 90, "the first documents")
        # Asleep: the process is frozen while the server goes on and its long poll lapses.
        process.send_signal(signal.SIGSTOP)
        sources |= queue_documents(device, 3, rng=rng, start=3)
        time.sleep(5)
        assert (
            Delivery.objects.filter(device=device).exclude(state=Delivery.State.DELIVERED).exists()
        )
        process.send_signal(signal.SIGCONT)  # resumed
        wait_until(lambda: all_delivered(device), 120, "the documents sent during the sleep")
    finally:
        process.send_signal(signal.SIGCONT)
        process.terminate()
        process.communicate(timeout=60)

    assert_delivered_exactly_once(agent.root, sources, device)


# Paths a compromised or buggy server could send, each a way out of the main folder or onto a
# name Windows treats specially (a device, an alternate data stream, a drive, a share).
HOSTILE_PATHS = [
    "../escape.xml",
    "DOSSIER/../../escape.xml",
    "C:/Windows/escape.xml",
    "//server/share/escape.xml",
    "DOSSIER\\achats\\escape.xml",
    "DOSSIER/achats/CON.xml",
    "DOSSIER/aux/f.xml",
    "DOSSIER/achats/f.xml:hidden",
    "DOSSIER/achats/f.xml.",
]


def test_the_windows_agent_refuses_hostile_paths_and_writes_nothing_outside(
    agent: WindowsAgent,
) -> None:
    device = paired_device(agent)
    good = queue_documents(device, 1, rng=random.Random(3))
    blob = storage.put(b"<Invoice>hostile</Invoice>")
    for path in HOSTILE_PATHS:  # straight into the table: as a server that skipped its checks
        Delivery.objects.create(
            firm=device.firm, device=device, relative_path=path, sha256=blob.sha256, size=blob.size
        )
    outside_before = sorted(agent.root.parent.parent.rglob("*"))

    agent.run("run", "--once", "--root", str(agent.root))

    hostile = Delivery.objects.filter(device=device, relative_path__in=HOSTILE_PATHS)
    assert set(hostile.values_list("state", "failure_reason")) == {
        (Delivery.State.FAILED, "unsafe_path")
    }
    placed = [p.relative_to(agent.root).as_posix() for p in placed_files(agent.root)]
    assert placed == list(good)
    outside_after = sorted(agent.root.parent.parent.rglob("*"))
    new_outside = [p for p in outside_after if p not in outside_before]
    assert all(p.is_relative_to(agent.root) or p.is_relative_to(agent.home) for p in new_outside)
