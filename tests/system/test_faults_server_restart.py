"""The server goes away in the middle of a transfer, once stopped politely and once killed: the
running downloader waits, resumes by itself, and nothing is lost, duplicated or half-written."""

from __future__ import annotations

import random
import signal

import pytest

from tests.conftest import Agent, LiveService
from tests.system.transfer import (
    all_delivered,
    assert_delivered_exactly_once,
    paired_device,
    placed_files,
    queue_documents,
    wait_until,
)

pytestmark = pytest.mark.system


def test_a_server_restarted_during_a_transfer_loses_and_duplicates_nothing(
    agent: Agent, live_service: LiveService
) -> None:
    rng = random.Random(6)
    device = paired_device(agent)
    sources = queue_documents(device, 250, rng=rng)
    process = agent.start("run", "--root", str(agent.root))
    try:
        wait_until(lambda: len(placed_files(agent.root)) > 0, 30, "the first placed file")
        live_service.stop()  # SIGTERM: uvicorn finishes what is in flight, refuses the rest
        sources |= queue_documents(device, 250, rng=rng, start=250)
        live_service.start()
        wait_until(lambda: len(placed_files(agent.root)) > 250, 60, "placements after restart")
        live_service.process.send_signal(signal.SIGKILL)  # and once without any warning
        live_service.process.wait()
        live_service.start()
        wait_until(lambda: all_delivered(device), 60, "every delivery acknowledged")
        assert process.poll() is None, "the agent must ride out the outage, not exit"
    finally:
        process.terminate()
        output = process.communicate(timeout=30)[0]

    assert process.returncode == 0, output
    assert_delivered_exactly_once(agent.root, sources, device)
