from __future__ import annotations

import sys
from pathlib import Path

import pytest

from ledgerdrop_agent.service import UNIT_NAME, install, render_unit

pytestmark = pytest.mark.skipif(
    sys.platform == "win32", reason="systemd is Linux's; Windows has a scheduled task (test_task)"
)


def _sections(unit: str) -> dict[str, list[tuple[str, str]]]:
    """The unit's settings by section, in order (a key such as Environment may repeat)."""
    sections: dict[str, list[tuple[str, str]]] = {}
    for line in unit.splitlines():
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), [])
        elif line:
            key, _, value = line.partition("=")
            current.append((key, value))
    return sections


def test_the_user_unit_runs_this_python_and_restarts_always() -> None:
    home = "/home/kevin/.local/share/ledgerdrop-agent"

    unit = _sections(render_unit(home=Path(home), user_unit=True))

    assert list(unit) == ["Unit", "Service", "Install"]
    assert ("After", "network-online.target") in unit["Unit"]
    assert dict(unit["Service"]) | {"Environment": ""} == {
        "Type": "simple",
        "ExecStart": f"{sys.executable} -m ledgerdrop_agent run",
        "Environment": "",
        "Restart": "always",
        "RestartSec": "10",
    }
    assert [value for key, value in unit["Service"] if key == "Environment"] == [
        f"LEDGERDROP_AGENT_HOME={home}",
        "PYTHONUNBUFFERED=1",
    ]
    assert unit["Install"] == [("WantedBy", "default.target")]


def test_the_system_unit_runs_as_the_installing_user_for_the_multi_user_target() -> None:
    unit = render_unit(home=Path("/srv/agent"), user_unit=False, run_as="demat")

    assert "User=demat" in unit.splitlines()
    assert "WantedBy=multi-user.target" in unit.splitlines()


def test_paths_with_spaces_and_percent_signs_survive_systemd_parsing() -> None:
    unit = render_unit(
        home=Path("/srv/agent 100%"),
        user_unit=True,
        root=Path("/mnt/BOB Demat"),
        python="/opt/my python/bin/python3",
    )

    assert (
        'ExecStart="/opt/my python/bin/python3" -m ledgerdrop_agent run --root "/mnt/BOB Demat"'
        in unit
    )
    assert 'Environment="LEDGERDROP_AGENT_HOME=/srv/agent 100%%"' in unit


def test_install_writes_the_unit_file(tmp_path: Path) -> None:
    installed = install(home=tmp_path / "home", user_unit=True, unit_dir=tmp_path, enable=False)

    assert installed.unit_path == tmp_path / UNIT_NAME
    assert "-m ledgerdrop_agent run" in installed.unit_path.read_text()
    assert not installed.enabled
