"""Where the agent keeps its state, and the credential it received when it was paired."""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from platformdirs import user_data_path

from ledgerdrop_agent.winfs import retry_shared

HOME_ENV = "LEDGERDROP_AGENT_HOME"
CREDENTIAL_FILE = "credential.json"
JOURNAL_FILE = "journal.sqlite3"
LOG_FILE = "agent.log"


class CredentialError(Exception):
    """The credential file exists but cannot be used."""


@dataclass(frozen=True)
class Credential:
    server: str
    device_id: int
    token: str


def agent_home() -> Path:
    configured = os.environ.get(HOME_ENV)
    if configured:
        return Path(configured).expanduser()
    return user_data_path("ledgerdrop-agent", appauthor=False)


def ensure_home(home: Path) -> Path:
    # The home holds the credential and the journal: nobody else on the machine needs to read it.
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    return home


def load_credential(home: Path) -> Credential | None:
    path = home / CREDENTIAL_FILE
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        data = json.loads(raw)
        return Credential(
            server=str(data["server"]), device_id=int(data["device_id"]), token=str(data["token"])
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise CredentialError(
            f"{path} is damaged ({exc}); run `ledgerdrop-agent unpair` then pair again"
        ) from exc


def save_credential(home: Path, credential: Credential) -> Path:
    """Write the credential so that it is never readable by others, nor ever half-written."""
    ensure_home(home)
    path = home / CREDENTIAL_FILE
    temporary = home / f".{CREDENTIAL_FILE}.{os.getpid()}.tmp"
    with contextlib.suppress(FileNotFoundError):
        temporary.unlink()
    # Created 0600 from the start: a chmod after the write would leave a moment of exposure.
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(asdict(credential), handle)
            handle.flush()
            os.fsync(handle.fileno())
        # On Windows a replace fails while `status` or an antivirus reads the old file.
        retry_shared(lambda: temporary.replace(path))
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
        raise
    fsync_folder(home)
    return path


def delete_credential(home: Path) -> bool:
    try:
        (home / CREDENTIAL_FILE).unlink()
    except FileNotFoundError:
        return False
    fsync_folder(home)
    return True


def fsync_folder(folder: Path) -> None:
    """Make a rename or creation inside `folder` durable (a no-op on Windows)."""
    if os.name == "nt":  # Windows cannot open a directory; NTFS journals the metadata itself.
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
