"""Running the agent unattended: a systemd unit on Linux.

On Windows, `ledgerdrop-agent service install` registers a scheduled task instead (`task.py`):
started at boot, started again if it stopped, as SYSTEM or as a user that can write a share.
The log goes to `agent.log` in the home, since a service has no terminal.
"""

from __future__ import annotations

import getpass
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

UNIT_NAME = "ledgerdrop-agent.service"
SYSTEM_UNIT_DIR = Path("/etc/systemd/system")


@dataclass(frozen=True)
class Installed:
    unit_path: Path
    enabled: bool


def user_unit_dir() -> Path:
    return Path.home() / ".config" / "systemd" / "user"


def render_unit(
    *,
    home: Path,
    user_unit: bool,
    root: Path | None = None,
    python: str | None = None,
    run_as: str | None = None,
) -> str:
    command = [python or sys.executable, "-m", "ledgerdrop_agent", "run"]
    if root is not None:
        command += ["--root", str(root)]
    lines = [
        "[Unit]",
        "Description=Ledgerdrop downloader (places invoices in the accounting folders)",
        "Wants=network-online.target",
        "After=network-online.target",
        "",
        "[Service]",
        "Type=simple",
        f"ExecStart={' '.join(_quote(part) for part in command)}",
        f"Environment={_quote('LEDGERDROP_AGENT_HOME=' + str(home))}",
        "Environment=PYTHONUNBUFFERED=1",
        "Restart=always",
        "RestartSec=10",
    ]
    if not user_unit:
        # A system unit would otherwise run as root and write files root owns in the folders.
        lines.append(f"User={run_as or getpass.getuser()}")
    lines += ["", "[Install]", f"WantedBy={'default.target' if user_unit else 'multi-user.target'}"]
    return "\n".join(lines) + "\n"


def install(
    *,
    home: Path,
    user_unit: bool,
    root: Path | None = None,
    unit_dir: Path | None = None,
    enable: bool = True,
) -> Installed:
    """Write the unit; enable and start it when systemctl is there."""
    folder = unit_dir or (user_unit_dir() if user_unit else SYSTEM_UNIT_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / UNIT_NAME
    path.write_text(render_unit(home=home, user_unit=user_unit, root=root), encoding="utf-8")
    systemctl = shutil.which("systemctl")
    if not enable or systemctl is None:
        return Installed(path, enabled=False)
    scope = ["--user"] if user_unit else []
    subprocess.run([systemctl, *scope, "daemon-reload"], check=True)
    subprocess.run([systemctl, *scope, "enable", "--now", UNIT_NAME], check=True)
    return Installed(path, enabled=True)


def _quote(word: str) -> str:
    # systemd expands %-specifiers everywhere and splits on spaces unless quoted.
    word = word.replace("%", "%%")
    if word and not any(c in word for c in " \t\"'\\"):
        return word
    return '"' + word.replace("\\", "\\\\").replace('"', '\\"') + '"'
