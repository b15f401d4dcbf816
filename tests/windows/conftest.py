"""The Windows leg: the real downloader run by the official Windows embeddable CPython under
Wine (`scripts/windows/python.sh`, prepared by `make test-windows`), against the real Linux
service on loopback. The `agent` fixture of the system tests becomes a Windows one here, so the
system tests imported into this folder run unchanged against it."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PureWindowsPath
from typing import Any

import pytest

from tests.conftest import Agent, LiveService

ROOT = Path(__file__).resolve().parents[2]
WINDOWS_PYTHON = ROOT / "scripts" / "windows" / "python.sh"
PREFIX = Path(os.environ.get("WINEPREFIX", ROOT / ".tools" / "windows" / "prefix"))
DRIVE_C = PREFIX / "drive_c"


def windows_path(path: Path) -> str:
    """How the Windows agent names a Linux path: C: is the Wine prefix's drive_c, Z: is /."""
    if path.is_relative_to(DRIVE_C):
        return str(PureWindowsPath("C:\\", *path.relative_to(DRIVE_C).parts))
    return str(PureWindowsPath("Z:\\", *path.parts[1:]))


@dataclass
class WindowsAgent(Agent):
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "LEDGERDROP_AGENT_HOME": windows_path(self.home),
            "WINEPREFIX": str(PREFIX),
            # Piped, Windows' Python writes the ANSI code page ("…" is 0x85); these tests read
            # UTF-8, as a log collector would be set up to.
            "PYTHONIOENCODING": "utf-8",
        }

    def command(self, args: tuple[str, ...]) -> list[str]:
        # Paths of this machine given on the command line are handed over in Windows form.
        given = [windows_path(Path(a)) if a.startswith("/") else a for a in args]
        return [str(WINDOWS_PYTHON), "-m", "ledgerdrop_agent", *given]

    def run(
        self, *args: str, timeout: float = 180, **kwargs: Any
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.command(args), env=self.env(), capture_output=True, text=True,
            timeout=timeout, stdin=subprocess.DEVNULL, **kwargs,
        )  # fmt: skip

    def start(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            self.command(args), env=self.env(), stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip


@pytest.fixture(scope="session", autouse=True)
def wineserver() -> Iterator[None]:
    """One Wine server for the whole leg: without it, every agent started would boot Wine's
    services again (seconds each)."""
    env = {**os.environ, "WINEPREFIX": str(PREFIX), "WINEDEBUG": "-all"}
    quiet: dict[str, Any] = {
        "env": env, "stdin": subprocess.DEVNULL, "stdout": subprocess.DEVNULL,
        "stderr": subprocess.DEVNULL,
    }  # fmt: skip
    server = subprocess.Popen(["/usr/lib/wine/wineserver", "--persistent"], **quiet)
    # Boot Wine's services now, from a process without pipes: they inherit the standard
    # streams of the process that starts them, and would hold a test's captured output open.
    subprocess.run(["/usr/lib/wine/wine64", "cmd.exe", "/c", "exit"], **quiet, check=True)
    yield
    subprocess.run(["/usr/lib/wine/wineserver", "--kill"], env=env, check=False)
    server.wait(timeout=30)


@pytest.fixture
def agent(live_service: LiveService) -> Iterator[WindowsAgent]:
    """A Windows agent whose main folder is on its C: drive, as on an accounting firm's PC."""
    if not WINDOWS_PYTHON.exists() or not (ROOT / ".tools/windows/current").exists():
        pytest.fail("the Windows leg is not prepared: run scripts/windows/prepare.sh")
    folder = DRIVE_C / "ledgerdrop-tests" / uuid.uuid4().hex[:12]
    (folder / "bob-demat").mkdir(parents=True)
    yield WindowsAgent(home=folder / "agent-home", root=folder / "bob-demat",
                       server=live_service.url)  # fmt: skip
    shutil.rmtree(folder, ignore_errors=True)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if item.path.is_relative_to(here):
            item.add_marker(pytest.mark.windows)
