"""A bad network between downloader and server: a proxy that drops connections, cuts them
mid-request or mid-answer and holds data back. The downloader retries and resumes by itself;
in the end every file is in place exactly once and every delivery acknowledged."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest

from tests.conftest import Agent, LiveService
from tests.system.proxy import MisbehavingProxy, Misbehaviour
from tests.system.transfer import (
    all_delivered,
    assert_delivered_exactly_once,
    paired_device,
    queue_documents,
    wait_until,
)

pytestmark = pytest.mark.system

BAD_NETWORK = Misbehaviour(drop=0.2, cut=0.03, delay=0.05, delay_seconds=(0.01, 0.3))
WAVES = 4


@pytest.fixture
def proxy(live_service: LiveService) -> Iterator[MisbehavingProxy]:
    port = int(live_service.url.rsplit(":", 1)[1])
    proxy = MisbehavingProxy(upstream_port=port, seed=7).start()
    yield proxy
    proxy.stop()


def test_a_dropping_cutting_and_stalling_network_loses_and_duplicates_nothing(
    agent: Agent, proxy: MisbehavingProxy
) -> None:
    rng = random.Random(8)
    device = paired_device(agent, server=proxy.url)
    proxy.behave(BAD_NETWORK)
    process = agent.start("run", "--root", str(agent.root))
    sources: dict[str, bytes] = {}
    try:
        for wave in range(WAVES):  # sent while the agent waits, as in an office
            sources |= queue_documents(device, 100, rng=rng, start=wave * 100)
            wait_until(lambda: all_delivered(device), 60, "every delivery acknowledged")
    finally:
        process.terminate()
        output = process.communicate(timeout=30)[0]

    assert process.returncode == 0, output
    assert proxy.faults["dropped"] and proxy.faults["cut"] and proxy.faults["delayed"], proxy.faults
    assert_delivered_exactly_once(agent.root, sources, device)
