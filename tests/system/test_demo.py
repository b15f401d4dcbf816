"""`make demo` as a newcomer runs it: on a port already taken it says how to pick another
(and pairs its downloader with nothing), and Ctrl-C ends it quietly. It runs on the embedded
default in a data folder of its own, on a free port: never 8000."""

from __future__ import annotations

import os
import pty
import select
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.system

REPOSITORY = Path(__file__).resolve().parents[2]


def demo_env(data_dir: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    return {**env, "LEDGERDROP_DATA_DIR": str(data_dir), "LEDGERDROP_LOG_LEVEL": "WARNING"}


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield taken.getsockname()[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_demo_on_a_busy_port_says_how_to_pick_another_and_pairs_nothing(
    busy_port: int, tmp_path: Path
) -> None:
    demo = subprocess.run(
        [sys.executable, "-m", "ledgerdrop.config.cli", "demo", "--port", str(busy_port)],
        env=demo_env(tmp_path), capture_output=True, text=True, timeout=60,
    )  # fmt: skip

    assert demo.returncode == 2
    assert f"Port {busy_port} on 127.0.0.1 is already in use" in demo.stderr
    assert f"make demo PORT={busy_port + 1}" in demo.stderr
    assert "Traceback" not in demo.stderr
    assert not (tmp_path / "agent").exists(), "a downloader was paired with another program"


def read_until(fd: int, text: bytes, timeout: float) -> bytes:
    """Everything the terminal shows until `text` appears, or until the program ends."""
    seen = b""
    deadline = time.monotonic() + timeout
    while text not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # the terminal closed: the program ended
                break
            if not chunk:
                break
            seen += chunk
    return seen


def test_ctrl_c_ends_make_demo_quietly(tmp_path: Path) -> None:
    port = free_port()
    pid, terminal = pty.fork()
    if pid == 0:  # the child: `make demo` in a terminal, as a person types it
        os.chdir(REPOSITORY)
        os.execvpe("make", ["make", "demo", f"PORT={port}"], demo_env(tmp_path))  # noqa: S606
    try:
        started = read_until(terminal, b"Press Ctrl-C to stop.", timeout=180)
        assert b"Press Ctrl-C to stop." in started, started.decode(errors="replace")[-3000:]
        assert f"http://127.0.0.1:{port}".encode() in started
        os.write(terminal, b"\x03")  # Ctrl-C, through the terminal to its foreground group
        stopping = time.monotonic()
        ended = read_until(terminal, b"\x00never\x00", timeout=30)
        _, status = os.waitpid(pid, 0)
        pid = 0
    finally:
        if pid:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
        os.close(terminal)

    shown = ended.decode(errors="replace")
    assert time.monotonic() - stopping < 20
    assert "Ledgerdrop demo stopped." in shown
    assert "Traceback" not in shown
    assert "make: ***" not in shown
    assert os.waitstatus_to_exitcode(status) in (0, -2)  # make ends by the interrupt, silently
