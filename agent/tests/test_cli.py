from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest
from device_server import TOKEN, DeviceServer

from ledgerdrop_agent.cli import main
from ledgerdrop_agent.config import Credential, load_credential, save_credential

INVOICE = b"<Invoice>cli</Invoice>"


@pytest.fixture
def paired(home: Path, server: DeviceServer) -> Path:
    save_credential(home, Credential(server.url, 5, TOKEN))
    return home


def test_pairing_with_a_code_shows_it_and_saves_the_credential(
    home: Path, server: DeviceServer, capsys: pytest.CaptureFixture[str]
) -> None:
    server.token_answers = [(200, {"device_id": 12, "token": "tok"})]

    assert main(["pair", "--server", server.url + "/", "--name", "PC Kevin"]) == 0

    out = capsys.readouterr().out
    assert "WDJB-MJHT" in out
    assert f"{server.url}/devices/pair\n" in out
    assert f"{server.url}/devices/pair?code=WDJB-MJHT" in out
    assert load_credential(home) == Credential(server.url, 12, "tok")
    if os.name == "posix":  # on Windows the user's profile folder keeps others out
        assert stat.S_IMODE((home / "credential.json").stat().st_mode) == 0o600


def test_pairing_with_an_enrolment_key(home: Path, server: DeviceServer) -> None:
    server.token_answers = [(200, {"device_id": 13, "token": "tok"})]

    assert main(["pair", "--server", server.url, "--enrolment-key", "K-1"]) == 0

    assert server.token_requests[0]["enrolment_key"] == "K-1"
    assert load_credential(home) == Credential(server.url, 13, "tok")


def test_a_refused_pairing_says_so_and_saves_nothing(
    home: Path, server: DeviceServer, capsys: pytest.CaptureFixture[str]
) -> None:
    server.token_answers = [(400, {"error": "invalid_grant"})]

    assert main(["pair", "--server", server.url, "--enrolment-key", "used"]) == 1

    assert "Pairing failed" in capsys.readouterr().err
    assert load_credential(home) is None


def test_run_once_places_the_pending_documents_and_logs_to_a_file(
    paired: Path, server: DeviceServer, root: Path
) -> None:
    server.add("ACME01/achats/f.xml", INVOICE)

    assert main(["run", "--once"]) == 0

    assert (root / "ACME01/achats/f.xml").read_bytes() == INVOICE
    log = (paired / "agent.log").read_text()
    assert "level=info event=placed id=1 path=ACME01/achats/f.xml" in log


def test_run_once_exits_non_zero_when_something_could_not_be_placed(
    paired: Path, server: DeviceServer
) -> None:
    server.add("../evil.xml", INVOICE)

    assert main(["run", "--once", "--log-file"]) == 1


def test_a_revoked_device_is_told_to_pair_again(
    paired: Path, server: DeviceServer, capsys: pytest.CaptureFixture[str]
) -> None:
    server.revoked = True

    assert main(["run", "--once"]) == 3

    assert "ledgerdrop-agent pair --server URL" in capsys.readouterr().err


def test_run_without_pairing_says_how_to_pair(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run"]) == 3

    assert "not paired" in capsys.readouterr().err


def test_status_tells_pairing_folder_contact_and_counts(
    paired: Path, server: DeviceServer, root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server.add("ACME01/achats/f.xml", INVOICE)
    server.add("ACME01/achats/CON.xml", INVOICE)
    main(["run", "--once"])
    capsys.readouterr()

    assert main(["status"]) == 0

    out = capsys.readouterr().out
    assert "Paired:        yes" in out
    assert f"Server:        {server.url}" in out
    assert "Device:        5" in out
    assert f"Main folder:   {root}" in out
    assert "just now" in out
    assert "Pending:       0 placed, not yet acknowledged" in out
    assert "Failed:        1" in out
    assert "reserved name on Windows" in out


def test_unpair_forgets_the_credential(paired: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["unpair"]) == 0

    assert load_credential(paired) is None
    assert main(["status"]) == 3
    assert "Paired:        no" in capsys.readouterr().out


@pytest.mark.skipif(
    sys.platform == "win32", reason="on Windows `service install` registers a scheduled task"
)
def test_service_install_writes_a_user_unit(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))

    assert main(["service", "install", "--user", "--no-enable"]) == 0

    unit = (tmp_path / ".config/systemd/user/ledgerdrop-agent.service").read_text()
    assert f"Environment=LEDGERDROP_AGENT_HOME={home}" in unit
