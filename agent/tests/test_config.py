from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from ledgerdrop_agent.config import (
    Credential,
    CredentialError,
    agent_home,
    delete_credential,
    load_credential,
    save_credential,
)

CREDENTIAL = Credential(server="https://ledgerdrop.example", device_id=3, token="s3cret")


def test_the_agent_home_follows_the_environment(home: Path) -> None:
    assert agent_home() == home


@pytest.mark.skipif(
    os.name != "posix", reason="POSIX file modes; on Windows the user's profile keeps others out"
)
def test_the_credential_file_is_readable_by_its_owner_only(home: Path) -> None:
    previous = os.umask(0)  # even under the most permissive umask
    try:
        path = save_credential(home, CREDENTIAL)
    finally:
        os.umask(previous)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(home.stat().st_mode) == 0o700


def test_a_new_pairing_replaces_the_credential_without_leftovers(home: Path) -> None:
    save_credential(home, CREDENTIAL)
    save_credential(home, Credential("https://other.example", 4, "t2"))

    assert load_credential(home) == Credential("https://other.example", 4, "t2")
    assert [p.name for p in home.iterdir()] == ["credential.json"]
    if os.name == "posix":
        assert stat.S_IMODE((home / "credential.json").stat().st_mode) == 0o600


def test_unpairing_forgets_the_credential(home: Path) -> None:
    save_credential(home, CREDENTIAL)

    assert delete_credential(home)
    assert load_credential(home) is None
    assert not delete_credential(home)


def test_a_damaged_credential_file_says_how_to_recover(home: Path) -> None:
    home.mkdir()
    (home / "credential.json").write_text('{"server": "x"')

    with pytest.raises(CredentialError, match="pair again"):
        load_credential(home)
