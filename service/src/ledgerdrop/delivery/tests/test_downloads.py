"""`/downloads/agent/`: the downloader a server hands out, with no sign-in (API.md, Downloads)."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import re
import subprocess
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import tree_sitter
import tree_sitter_powershell
from django.test import AsyncClient, Client
from pytest_django import Settings as SettingsWrapper

from ledgerdrop.config.cli import main as ledgerdrop
from ledgerdrop.delivery import downloads
from ledgerdrop.delivery import services as delivery_services
from tests import builders

pytestmark = pytest.mark.django_db

VERSION = downloads.version_of(downloads.AGENT)


@pytest.fixture
def downloads_dir(settings: SettingsWrapper, tmp_path: Path) -> Path:
    settings.LEDGERDROP_DOWNLOADS_DIR = tmp_path / "downloads"
    return tmp_path / "downloads"


def fetch_through_asgi(path: str) -> tuple[int, bytes]:
    """As uvicorn serves it: Django's ASGI handler, the body streamed asynchronously."""

    async def get() -> tuple[int, bytes]:
        answer = await AsyncClient().get(path)
        parts = [part async for part in answer.streaming_content]  # type: ignore[attr-defined]
        return answer.status_code, b"".join(parts)

    # A thread of its own: the browser tests' Playwright may keep an event loop in this one.
    with ThreadPoolExecutor(max_workers=1) as runner:
        return runner.submit(asyncio.run, get()).result()


def served_wheels(index: str) -> dict[str, str]:
    return dict(re.findall(r'href="([^"#]+\.whl)#sha256=([0-9a-f]{64})"', index))


def test_the_index_lists_both_wheels_of_this_version_built_on_first_request(
    client: Client, downloads_dir: Path
) -> None:
    answer = client.get("/downloads/agent/")

    assert answer.status_code == 200
    listed = served_wheels(answer.content.decode())
    assert sorted(listed) == [
        f"ledgerdrop_agent-{VERSION}-py3-none-any.whl",
        f"ledgerdrop_protocol-{downloads.version_of(downloads.PROTOCOL)}-py3-none-any.whl",
    ]
    assert sorted(path.name for path in downloads_dir.iterdir()) == sorted(listed)


def test_a_served_wheel_is_the_agent_of_this_version_with_the_checksum_the_index_gives(
    client: Client, downloads_dir: Path
) -> None:
    listed = served_wheels(client.get("/downloads/agent/").content.decode())
    name = f"ledgerdrop_agent-{VERSION}-py3-none-any.whl"

    status, body = fetch_through_asgi(f"/downloads/agent/{name}")

    assert status == 200
    assert hashlib.sha256(body).hexdigest() == listed[name]
    with zipfile.ZipFile(io.BytesIO(body)) as wheel:
        metadata = wheel.read(f"ledgerdrop_agent-{VERSION}.dist-info/METADATA").decode()
        assert "ledgerdrop_agent/cli.py" in wheel.namelist()
    assert f"Version: {VERSION}" in metadata


def test_a_wheel_older_than_its_sources_is_built_again_before_it_is_served(
    client: Client, downloads_dir: Path
) -> None:
    client.get("/downloads/agent/")
    [agent_wheel] = downloads_dir.glob("ledgerdrop_agent-*.whl")
    # As after `git pull` on the server: the sources are newer than the wheel of that version.
    os.utime(agent_wheel, (0, 0))

    client.get("/downloads/agent/")

    assert agent_wheel.stat().st_mtime > 0


@pytest.mark.parametrize("name", ["ledgerdrop_agent-0.0.1-py3-none-any.whl", "notes.txt"])
def test_any_other_file_is_a_404_problem_even_in_the_downloads_folder(
    client: Client, downloads_dir: Path, name: str
) -> None:
    downloads_dir.mkdir()
    (downloads_dir / name).write_text("not for the web")

    answer = client.get(f"/downloads/agent/{name}")

    assert answer.status_code == 404
    assert answer["Content-Type"] == "application/problem+json"


def test_without_the_sources_a_missing_wheel_is_a_404_naming_the_build_command(
    client: Client, downloads_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As on a server installed from wheels: nothing to build the downloader from.
    monkeypatch.setattr(downloads, "_source_dir", lambda distribution: None)

    answer = client.get("/downloads/agent/")

    assert answer.status_code == 404
    problem = answer.json()
    assert "ledgerdrop downloads build" in problem["detail"]
    assert str(downloads_dir) not in problem["detail"]


def test_the_windows_zip_is_served_from_the_downloads_folder_once_built(
    client: Client, downloads_dir: Path
) -> None:
    missing = client.get("/downloads/agent/ledgerdrop-agent-windows.zip")
    downloads_dir.mkdir()
    (downloads_dir / "ledgerdrop-agent-windows.zip").write_bytes(b"PK\x05\x06" + bytes(18))
    present = fetch_through_asgi("/downloads/agent/ledgerdrop-agent-windows.zip")

    assert missing.status_code == 404
    assert downloads.WINDOWS_ZIP_COMMAND in missing.json()["detail"]
    assert str(downloads_dir) not in missing.json()["detail"]
    assert present == (200, b"PK\x05\x06" + bytes(18))


def test_ledgerdrop_downloads_build_puts_both_wheels_in_the_downloads_folder(
    downloads_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as done:
        ledgerdrop(["downloads", "build"])

    assert done.value.code == 0
    names = sorted(path.name for path in downloads_dir.glob("*.whl"))
    assert names == [
        f"ledgerdrop_agent-{VERSION}-py3-none-any.whl",
        f"ledgerdrop_protocol-{downloads.version_of(downloads.PROTOCOL)}-py3-none-any.whl",
    ]
    assert "Windows downloader: not built" in capsys.readouterr().out


# -- the scripts ---------------------------------------------------------------------------------


def test_install_sh_is_valid_sh_pinned_to_this_version_and_this_server(
    client: Client, settings: SettingsWrapper
) -> None:
    settings.PUBLIC_URL = "https://ledgerdrop.fiduciaire.be"

    script = client.get("/downloads/agent/install.sh").content.decode()

    assert subprocess.run(["sh", "-n"], input=script, text=True).returncode == 0
    assert "SERVER=https://ledgerdrop.fiduciaire.be\n" in script
    assert f"AGENT_VERSION={VERSION}\n" in script
    assert '"ledgerdrop-agent==$AGENT_VERSION"' in script
    assert "--no-index --no-deps --find-links" in script


def test_a_server_address_with_shell_characters_stays_one_quoted_word(
    client: Client, settings: SettingsWrapper
) -> None:
    settings.PUBLIC_URL = "https://example.test/it's$(touch pwned)"
    script = client.get("/downloads/agent/install.sh").content.decode()
    [assignment] = [line for line in script.splitlines() if line.startswith("SERVER=")]

    echoed = subprocess.run(
        ["sh", "-c", f'{assignment}\nprintf %s "$SERVER"'], capture_output=True, text=True
    )

    assert echoed.stdout == settings.PUBLIC_URL


def test_scripts_hold_no_enrolment_key_even_right_after_keys_were_minted(client: Client) -> None:
    firm = builders.firm()
    keys = [delivery_services.mint_enrolment_key(firm, by=None)[1] for _ in range(2)]

    scripts = [client.get(f"/downloads/agent/install.{ext}").content.decode() for ext in "sh ps1"]

    for script in scripts:
        assert not any(key in script for key in keys)
        assert "lde_" not in script


def powershell_tree(script: str) -> tree_sitter.Tree:
    parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_powershell.language()))
    return parser.parse(script.encode())


def test_install_ps1_parses_as_powershell_and_fetches_the_zip_from_this_server(
    client: Client, settings: SettingsWrapper
) -> None:
    settings.PUBLIC_URL = "https://ledgerdrop.fiduciaire.be"

    script = client.get("/downloads/agent/install.ps1").content.decode()

    assert not powershell_tree(script).root_node.has_error
    assert "$Server = 'https://ledgerdrop.fiduciaire.be'" in script
    assert '-Uri "$Server/downloads/agent/ledgerdrop-agent-windows.zip"' in script
    assert "Expand-Archive" in script
    assert "Join-Path $env:ProgramFiles" in script and "Join-Path $env:LOCALAPPDATA" in script


def test_install_ps1_reads_the_key_once_passes_it_only_to_pair_and_writes_it_nowhere(
    client: Client,
) -> None:
    script = client.get("/downloads/agent/install.ps1").content.decode()
    code = [line.strip() for line in script.splitlines() if not line.strip().startswith("#")]
    uses = [line for line in code if "EnrolmentKey" in line or "ENROLMENT_KEY" in line]

    assert uses == [
        "$EnrolmentKey = $env:LEDGERDROP_ENROLMENT_KEY",
        "Remove-Item Env:\\LEDGERDROP_ENROLMENT_KEY -ErrorAction SilentlyContinue",
        "if ($EnrolmentKey) { $PairArguments += @('--enrolment-key', $EnrolmentKey) }",
        "$EnrolmentKey = $null",
    ]
    assert "Invoke-Agent $PairArguments" in code
    for writer in ("Set-Content", "Out-File", "Add-Content", "Start-Transcript", "setx"):
        assert writer not in script


def test_install_ps1_registers_the_scheduled_task_after_pairing(client: Client) -> None:
    script = client.get("/downloads/agent/install.ps1").content.decode()

    pairing = script.index("Invoke-Agent $PairArguments")
    task = script.index("Invoke-Agent @('service', 'install')")

    assert pairing < task
    assert "$Agent = Join-Path $Target 'ledgerdrop-agent.cmd'" in script
    assert "if ($LASTEXITCODE -ne 0)" in script[task:]
