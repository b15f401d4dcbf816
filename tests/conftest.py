"""Fixtures that start the real thing: the service under uvicorn on a free loopback port, and the
real downloader as a subprocess. The test process seeds data through the same database the
server uses (pytest-django's test database, committed by `transactional_db`)."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from django.db import connection
from pytest_django import Settings as SettingsWrapper

T = TypeVar("T")


def run_on_own_loop(scenario: Coroutine[Any, Any, T]) -> T:
    """Run an async scenario to its end on a loop of its own thread: the browser tests'
    Playwright may keep an event loop running in this one, where `asyncio.run` refuses."""
    with ThreadPoolExecutor(max_workers=1) as runner:
        return runner.submit(asyncio.run, scenario).result()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def database_url() -> str:
    """The URL of the database this test process uses, for a server process to share it."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@dataclass
class LiveService:
    url: str
    data_dir: Path
    process: subprocess.Popen[bytes]
    log: Path
    env: dict[str, str] = field(default_factory=dict)

    def logs(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def start(self) -> None:
        port = self.url.rsplit(":", 1)[1]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "ledgerdrop.config.cli", "serve", "--no-migrate",
                 "--port", port],
                env=self.env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the service stopped while starting:\n{self.logs()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        # Stopped, or it would keep the test database open for every later test.
        self.stop()
        raise RuntimeError(f"the service did not come up:\n{self.logs()}")


def started_service(folder: Path) -> LiveService:
    """The service under uvicorn on a free port, storing its data in `folder/service`, on the
    test database: rows a test commits are the server's too."""
    data_dir = folder / "service"
    data_dir.mkdir()
    env = {
        **os.environ,
        "LEDGERDROP_DATA_DIR": str(data_dir),
        "DATABASE_URL": database_url(),
        "LEDGERDROP_LOG_LEVEL": "WARNING",
    }
    service = LiveService(
        url=f"http://127.0.0.1:{free_port()}",
        data_dir=data_dir,
        process=None,  # type: ignore[arg-type]
        log=folder / "service.log",
        env=env,
    )
    service.start()
    return service


def store_files_beside(service: LiveService, settings: SettingsWrapper) -> None:
    """The test process and the server store files in the same place."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": service.data_dir / "files"},
        },
    }


@pytest.fixture
def live_service(
    transactional_db: None, settings: SettingsWrapper, tmp_path: Path
) -> Iterator[LiveService]:
    service = started_service(tmp_path)
    store_files_beside(service, settings)
    yield service
    service.stop()


@dataclass
class Agent:
    home: Path
    root: Path
    server: str

    def env(self) -> dict[str, str]:
        return {**os.environ, "LEDGERDROP_AGENT_HOME": str(self.home)}

    def run(
        self, *args: str, timeout: float = 120, **kwargs: Any
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "ledgerdrop_agent", *args],
            env=self.env(), capture_output=True, text=True, timeout=timeout, **kwargs,
        )  # fmt: skip

    def start(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "ledgerdrop_agent", *args],
            env=self.env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip


@pytest.fixture
def agent(tmp_path: Path, live_service: LiveService) -> Agent:
    root = tmp_path / "bob-demat"
    root.mkdir()
    return Agent(home=tmp_path / "agent-home", root=root, server=live_service.url)
