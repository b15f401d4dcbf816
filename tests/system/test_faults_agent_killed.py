"""kill -9 of the downloader at random moments of a transfer, twenty times: whatever was cut
(a download, a placement, the journal, an ack), the restarted agent ends with every file placed
exactly once and every delivery acknowledged."""

from __future__ import annotations

import random
import signal
import time

import pytest

from tests.conftest import Agent
from tests.system.transfer import (
    all_delivered,
    assert_delivered_exactly_once,
    paired_device,
    placed_files,
    queue_documents,
)

pytestmark = pytest.mark.system

KILLS = 20
DOCUMENTS = 500


def test_killing_the_agent_twenty_times_places_every_file_exactly_once(agent: Agent) -> None:
    rng = random.Random(5)
    device = paired_device(agent)
    sources: dict[str, bytes] = {}
    per_round = DOCUMENTS // KILLS
    killed_mid_transfer = 0
    for round_ in range(KILLS):
        # The documents arrive over the transfer, so that each kill meets work in progress.
        sources |= queue_documents(device, per_round, rng=rng, start=round_ * per_round)
        before = len(placed_files(agent.root))
        process = agent.start("run", "--root", str(agent.root))
        # A random moment between start-up and the round's last file: how many of this round's
        # files to wait for (not all of them: a round takes milliseconds), then a little more.
        target = before + rng.randint(0, per_round - 1)
        deadline = time.monotonic() + 20
        while len(placed_files(agent.root)) < target and time.monotonic() < deadline:
            assert process.poll() is None, process.communicate()[0]
            time.sleep(0.002)
        time.sleep(rng.uniform(0, 0.003))
        if not all_delivered(device):  # files to place, or acknowledgements to send
            killed_mid_transfer += 1
        process.send_signal(signal.SIGKILL)
        process.wait()

    result = agent.run("run", "--once", "--root", str(agent.root))

    assert result.returncode == 0, result.stdout + result.stderr
    assert killed_mid_transfer >= KILLS // 2, f"only {killed_mid_transfer} kills mid-transfer"
    assert_delivered_exactly_once(agent.root, sources, device)
