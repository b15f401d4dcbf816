"""A snapshot's manifest and the checks that a backup is whole: what `backup --verify` and
`restore` read before they trust a byte of it."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ledgerdrop.config.backup.progress import Progress

FORMAT = 1
MANIFEST = "manifest.json"
DATABASE = "database.jsonl.gz"
SECRETS = "secrets.bin"
SNAPSHOTS = "snapshots"
BLOBS = "blobs"
# A snapshot is written under this prefix and renamed when whole: a crash leaves no snapshot
# that looks complete.
PARTIAL = ".partial-"


class BackupRefused(Exception):
    """The backup cannot be trusted or the target cannot take it; the message says why."""


@dataclass
class Manifest:
    ledgerdrop_version: str
    created_at: str
    engine: str
    # The migrations applied to the database when it was read, "app": ["0001_initial", …].
    migrations: dict[str, list[str]]
    database_sha256: str
    # Rows per model ("documents.document": 12).
    counts: dict[str, int]
    # Every stored file, SHA-256 → size, and the stored names that are not content-addressed
    # (name → SHA-256), such as the pointer to the installed PEPPOL rules.
    files: dict[str, int]
    named_files: dict[str, str] = field(default_factory=dict)
    # Only with --include-secrets: the scrypt salt and the checksum of the encrypted file.
    secrets: dict[str, str] | None = None
    format: int = FORMAT

    def write(self, folder: Path) -> None:
        text = json.dumps(asdict(self), ensure_ascii=False, indent=1, sort_keys=True)
        (folder / MANIFEST).write_text(text + "\n", encoding="utf-8")

    @classmethod
    def read(cls, folder: Path) -> Manifest:
        try:
            data: dict[str, Any] = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise BackupRefused(f"{folder} holds no {MANIFEST}: it is not a snapshot.") from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise BackupRefused(f"{folder / MANIFEST} cannot be read ({exc}).") from None
        if data.get("format") != FORMAT:
            raise BackupRefused(
                f"{folder / MANIFEST} is of format {data.get('format')!r}; this release "
                f"reads format {FORMAT}."
            )
        try:
            return cls(**data)
        except TypeError as exc:
            raise BackupRefused(f"{folder / MANIFEST} is incomplete ({exc}).") from None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def blob_path(backup_root: Path, sha256: str) -> Path:
    return backup_root / BLOBS / sha256[:2] / sha256


def snapshots(backup_root: Path) -> list[Path]:
    """The complete snapshots of a backup folder, oldest first (their names sort by time)."""
    folder = backup_root / SNAPSHOTS
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(PARTIAL))


def snapshot_folder(source: Path) -> Path:
    """The snapshot `source` names: a snapshot folder itself, or a backup folder (its latest)."""
    if (source / MANIFEST).exists():
        return source
    found = snapshots(source)
    if not found:
        raise BackupRefused(f"{source} holds no backup (no {SNAPSHOTS}/…/{MANIFEST}).")
    return found[-1]


def backup_root_of(snapshot: Path) -> Path:
    return snapshot.parent.parent


def problems(snapshot: Path, manifest: Manifest, progress: Progress | None = None) -> list[str]:
    """Everything that makes this snapshot untrustworthy: a file missing or whose bytes do not
    match its checksum. Every file is read (as long as copying them: `progress` shows it)."""
    progress = progress or Progress()
    found: list[str] = []
    database = snapshot / DATABASE
    if not database.exists():
        found.append(f"the database file {DATABASE} is missing")
    elif sha256_of(database) != manifest.database_sha256:
        found.append(f"the database file {DATABASE} does not match its checksum")
    if manifest.secrets is not None:
        secrets = snapshot / SECRETS
        if not secrets.exists():
            found.append(f"the secrets file {SECRETS} is missing")
        elif sha256_of(secrets) != manifest.secrets["sha256"]:
            found.append(f"the secrets file {SECRETS} does not match its checksum")
    root = backup_root_of(snapshot)
    wanted: list[str] = sorted(set(manifest.files) | set(manifest.named_files.values()))
    progress.start("Checking the stored files", unit="files", total=len(wanted))
    for sha256 in wanted:
        path = blob_path(root, sha256)
        if not path.exists():
            found.append(f"the stored file {sha256} is missing")
            progress.step()
            continue
        if sha256_of(path) != sha256:
            found.append(f"the stored file {sha256} does not match its checksum")
        progress.step(path.stat().st_size)
    progress.finish()
    return found
