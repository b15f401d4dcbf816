"""The Linux install command of the *Download the downloader* page, run as a person pastes it,
against the real service on loopback: the downloader lands in a virtual environment of its
own, fetched from the server's `/downloads/agent/` (wheels the server builds on that first
request), pairs with the enrolment key in the command, and writes its systemd user unit."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from ledgerdrop.delivery import downloads
from ledgerdrop.delivery import services as delivery_services
from ledgerdrop.delivery.models import Device, EnrolmentKey
from tests import builders
from tests.conftest import LiveService

pytestmark = pytest.mark.system

SYSTEMD_RUNNING = Path("/run/systemd/system").is_dir()


def run_install(command: str, home: Path, agent_home: Path, install_dir: Path) -> str:
    env = {
        **os.environ,
        # pip's usual cache of the person running the tests keeps the dependencies fast.
        "PIP_CACHE_DIR": os.environ.get("PIP_CACHE_DIR", str(Path.home() / ".cache" / "pip")),
        "HOME": str(home),
        "LEDGERDROP_AGENT_HOME": str(agent_home),
        "LEDGERDROP_INSTALL_DIR": str(install_dir),
        "LEDGERDROP_INSTALL_FOR": "user",
        "LEDGERDROP_DEVICE_NAME": "Serveur partagé",
    }
    if SYSTEMD_RUNNING:
        # Never start a real unit on the machine running the tests.
        env["LEDGERDROP_NO_START"] = "1"
    result = subprocess.run(
        ["sh", "-c", command], env=env, capture_output=True, text=True, timeout=600
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    return output


def test_the_linux_command_installs_pairs_and_writes_the_systemd_unit_once(
    live_service: LiveService, tmp_path: Path
) -> None:
    firm = builders.firm()
    minted, key = delivery_services.mint_enrolment_key(firm, by=None)
    command = downloads.install_commands(live_service.url, key).linux
    home, agent_home, install_dir = tmp_path / "home", tmp_path / "agent-home", tmp_path / "venv"
    home.mkdir()

    output = run_install(command, home, agent_home, install_dir)

    # Its own environment, with the wheels of this server's version in it.
    python = install_dir / "bin" / "python"
    where = subprocess.run(
        [python, "-c", "import ledgerdrop_agent, sys; print(ledgerdrop_agent.__file__)"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert where.startswith(str(install_dir)), where
    version = subprocess.run(
        [install_dir / "bin" / "ledgerdrop-agent", "--version"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert downloads.version_of(downloads.AGENT) in version
    assert (home / ".local" / "bin" / "ledgerdrop-agent").resolve() == (
        install_dir / "bin" / "ledgerdrop-agent"
    )
    # Paired with the key: the device is the firm's, and the key is spent.
    device = Device.objects.get(firm=firm)
    assert device.name == "Serveur partagé"
    assert EnrolmentKey.objects.get(pk=minted.pk).device == device
    assert (agent_home / "credential.json").is_file()
    # The unit starts the downloader of that environment with that home.
    unit = (home / ".config" / "systemd" / "user" / "ledgerdrop-agent.service").read_text()
    assert f"ExecStart={python} -m ledgerdrop_agent run" in unit
    assert f"LEDGERDROP_AGENT_HOME={agent_home}" in unit
    assert "WantedBy=default.target" in unit
    assert "was not started" in output
    if not SYSTEMD_RUNNING:
        assert "systemd is not running here" in output
    # The key was used once and written nowhere.
    for path in tmp_path.rglob("*"):
        if path.is_file() and not path.is_symlink():
            assert key.encode() not in path.read_bytes(), path

    # Pasting the command again (say, after an upgrade of the server) keeps the pairing.
    again = run_install(command, home, agent_home, install_dir)

    assert "already paired" in again
    assert Device.objects.filter(firm=firm).count() == 1
