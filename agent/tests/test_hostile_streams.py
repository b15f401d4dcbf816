"""A server that does not keep its word about the bytes: more than it announced, far too slowly,
or a bundle that breaks the offered sizes. The downloader takes no more than it was promised,
gives up on a trickle, keeps little in memory, and stops at once when told to."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest
from device_server import TOKEN, DeviceServer

from conftest import FAST
from ledgerdrop_agent.client import DeviceClient, TransferLimits
from ledgerdrop_agent.config import Credential, save_credential
from ledgerdrop_agent.journal import Journal
from ledgerdrop_agent.runner import Runner

OFFER = b"<Invoice>22 bytes</Invoice>"[:22]
FLOOD = 300 << 20
# A fast test of the same rules: 1 s windows at 1 KB/s, 3 s of grace.
QUICK = TransferLimits(min_rate=1000, window=1.0, grace=3.0)


@pytest.fixture
def quick_runner(server: DeviceServer, journal: Journal) -> Iterator[Runner]:
    with DeviceClient(server.url, TOKEN, backoff=FAST, limits=QUICK) as client:
        runner = Runner(client, journal, pause=FAST)
        yield runner
        runner.close()


def staging_is_empty(root: Path) -> bool:
    staging = root / ".ledgerdrop-staging"
    return not staging.exists() or list(staging.iterdir()) == []


@pytest.mark.parametrize("announced", [True, False], ids=["with-length", "until-close"])
def test_a_22_byte_offer_answered_with_300_mb_is_refused_without_reading_it(
    server: DeviceServer, runner: Runner, root: Path, announced: bool
) -> None:
    delivery = server.add("ACME01/achats/F1.xml", OFFER)
    delivery.flood, delivery.flood_announced = FLOOD, announced

    assert not runner.run_once()

    assert delivery.state == "failed"
    assert server.fail_reports[1]["reason"] == "checksum_mismatch"
    assert "22 bytes" in server.fail_reports[1]["message"]
    # What the connection took before the agent hung up is what the socket buffers hold.
    assert delivery.sent < FLOOD // 10
    assert not (root / "ACME01/achats/F1.xml").exists()
    assert staging_is_empty(root)


def test_a_bundle_announcing_other_sizes_than_the_offers_is_dropped_for_single_downloads(
    server: DeviceServer, runner: Runner, root: Path
) -> None:
    for n in range(3):
        server.add(f"ACME01/ventes/F{n}.xml", OFFER + bytes([n]))
    server.lying_bundles = 100

    assert runner.run_once()

    for delivery in server.deliveries.values():
        assert (root / delivery.relative_path).read_bytes() == delivery.content
    assert len([p for p in server.paths("GET") if p.endswith("/content")]) == 3


def test_a_trickling_download_is_given_up_in_bounded_time_and_retried_later(
    server: DeviceServer, quick_runner: Runner, root: Path
) -> None:
    delivery = server.add("ACME01/achats/F1.xml", bytes(200))
    delivery.trickle = 0.2  # a byte every 0.2 s: 40 s for the file

    started = time.monotonic()
    assert not quick_runner.run_once()

    assert time.monotonic() - started < 15  # the rules allow a few seconds, not 40
    assert delivery.state == "queued"  # not failed: a slow line may be faster tomorrow
    assert not (root / "ACME01/achats/F1.xml").exists()
    assert staging_is_empty(root)


def test_big_files_and_bundles_go_to_disk_without_being_held_in_memory(
    server: DeviceServer, runner: Runner, root: Path
) -> None:
    big = server.add("ACME01/achats/big.pdf", os.urandom(48 << 20))
    for n in range(8):  # a full bundle of the biggest files that travel in bundles
        server.add(f"ACME01/ventes/F{n}.xml", os.urandom((1 << 20) - n))

    tracemalloc.start()
    try:
        assert runner.run_once()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert peak < 12 << 20
    assert (root / big.relative_path).stat().st_size == 48 << 20
    assert all(d.state == "delivered" for d in server.deliveries.values())


# -- stopping: the real process, signalled while a download trickles ------------------------


@pytest.fixture
def paired_home(home: Path, server: DeviceServer) -> Path:
    save_credential(home, Credential(server.url, 5, TOKEN))
    return home


def start_agent(home: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "ledgerdrop_agent", *args],
        env={**os.environ, "LEDGERDROP_AGENT_HOME": str(home)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def seconds_to_stop(process: subprocess.Popen[str], how: signal.Signals) -> float:
    stopping = time.monotonic()
    process.send_signal(how)
    try:
        process.wait(timeout=30)
    finally:
        process.kill()
    return time.monotonic() - stopping


@pytest.mark.parametrize(
    ("args", "how", "exit_code"),
    [
        (["run"], signal.SIGTERM, 0),
        (["run", "--once"], signal.SIGTERM, 0),
        (["run", "--once"], signal.SIGINT, 130),
    ],
    ids=["run-sigterm", "once-sigterm", "once-ctrl-c"],
)
@pytest.mark.skipif(
    sys.platform == "win32",
    reason="POSIX signals: on Windows a stop is the task ending the process",
)
def test_a_stop_during_a_trickling_download_ends_the_agent_within_a_second_or_two(
    paired_home: Path,
    server: DeviceServer,
    root: Path,
    args: list[str],
    how: signal.Signals,
    exit_code: int,
) -> None:
    slow = server.add("ACME01/achats/slow.xml", bytes(100))
    slow.trickle = 1.0
    server.add("ACME01/achats/quick.xml", OFFER)
    process = start_agent(paired_home, *args)
    assert server.content_requests.wait(30), process.communicate(timeout=5)[0]
    time.sleep(0.5)  # well inside the trickle

    assert seconds_to_stop(process, how) < 2.5  # a generous bound on "within a second"

    assert process.returncode == exit_code, process.communicate()[0]
    # The journal kept what was done: the quick file is placed once, the slow one later.
    slow.trickle = 0.0
    finished = start_agent(paired_home, "run", "--once")
    assert finished.wait(timeout=60) == 0, finished.communicate()[0]
    assert (root / "ACME01/achats/slow.xml").read_bytes() == bytes(100)
    assert sorted(p.name for p in (root / "ACME01/achats").iterdir()) == ["quick.xml", "slow.xml"]
