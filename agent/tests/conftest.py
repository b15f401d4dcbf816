from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from device_server import TOKEN, DeviceServer

from ledgerdrop_agent import i18n
from ledgerdrop_agent.client import Backoff, DeviceClient
from ledgerdrop_agent.journal import Journal
from ledgerdrop_agent.runner import Runner, RunOptions

# Retries keep their real shape (exponential, jittered) but at a millisecond scale.
FAST = Backoff(base=0.001, cap=0.01)


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    """The language is process-wide: a test that speaks French must not leave it on."""
    i18n.use(i18n.SOURCE_LANGUAGE)
    yield
    i18n.use(i18n.SOURCE_LANGUAGE)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "bob-demat"
    folder.mkdir()
    return folder


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "agent-home"
    monkeypatch.setenv("LEDGERDROP_AGENT_HOME", str(folder))
    return folder


@pytest.fixture
def server(root: Path) -> Iterator[DeviceServer]:
    running = DeviceServer(root_folder=str(root)).start()
    yield running
    running.stop()


@pytest.fixture
def client(server: DeviceServer) -> Iterator[DeviceClient]:
    with DeviceClient(server.url, TOKEN, backoff=FAST) as device_client:
        yield device_client


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    opened = Journal(tmp_path / "journal.sqlite3")
    yield opened
    opened.close()


@pytest.fixture
def make_runner(client: DeviceClient, journal: Journal) -> Iterator[Callable[..., Runner]]:
    made: list[Runner] = []

    def make(**options: Any) -> Runner:
        made.append(Runner(client, journal, RunOptions(**options), pause=FAST))
        return made[-1]

    yield make
    for runner in made:
        runner.close()


@pytest.fixture
def runner(make_runner: Callable[..., Runner]) -> Runner:
    return make_runner()
