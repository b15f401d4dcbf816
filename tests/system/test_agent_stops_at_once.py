"""systemd stops the downloader with SIGTERM, a person with Ctrl-C: either ends it within a
second or two even in the middle of a long-poll on the real service, and the next start places
what arrived meanwhile exactly once."""

from __future__ import annotations

import random
import signal
import time

import pytest

from tests.conftest import Agent
from tests.system.transfer import (
    assert_delivered_exactly_once,
    paired_device,
    queue_documents,
    wait_until,
)

pytestmark = pytest.mark.system


@pytest.mark.parametrize(("how", "exit_code"), [(signal.SIGTERM, 0), (signal.SIGINT, 130)])
def test_a_stop_during_a_long_poll_ends_the_downloader_at_once(
    agent: Agent, how: signal.Signals, exit_code: int
) -> None:
    device = paired_device(agent)
    sources = queue_documents(device, 3, rng=random.Random(3))
    process = agent.start("run", "--root", str(agent.root))
    assert process.stdout is not None
    # The first line says it is connecting; "Connected" comes with the first answer.
    wait_until(lambda: "Connected" in process.stdout.readline(), 30, "the agent to connect")
    time.sleep(1.0)  # the documents are placed; it now waits in a long-poll

    stopping = time.monotonic()
    process.send_signal(how)
    process.wait(timeout=30)

    assert time.monotonic() - stopping < 2.5  # a generous bound on "within a second"
    assert process.returncode == exit_code
    sources |= queue_documents(device, 2, rng=random.Random(4), start=3)
    again = agent.run("run", "--once", "--root", str(agent.root))
    assert again.returncode == 0, again.stdout + again.stderr
    assert_delivered_exactly_once(agent.root, sources, device)
