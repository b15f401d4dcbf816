"""The command line of backup and restore: `ledgerdrop backup DEST`, `ledgerdrop backup
--verify SRC`, `ledgerdrop restore SRC`. What they print is the operator's record."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path

COMMANDS = {"backup", "restore"}
# The name of the variable that may hold the passphrase, not a passphrase.
PASSPHRASE_VARIABLE = "LEDGERDROP_BACKUP_PASSPHRASE"  # noqa: S105


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    backup = commands.add_parser(
        "backup", help="write a consistent snapshot of the database and files into DEST"
    )
    backup.add_argument("destination", metavar="DEST", type=Path)
    backup.add_argument(
        "--verify", action="store_true", help="check the backup DEST (or SRC) without restoring"
    )
    backup.add_argument(
        "--include-secrets",
        action="store_true",
        help=f"also the secret key and the secrets of the environment, encrypted with a "
        f"passphrase (asked, or read from {PASSPHRASE_VARIABLE})",
    )
    restore = commands.add_parser(
        "restore", help="restore a backup into an empty database and storage"
    )
    restore.add_argument("source", metavar="SRC", type=Path)
    restore.add_argument(
        "--include-secrets", action="store_true", help="also put the backup's secrets back"
    )


def _passphrase(*, confirm: bool) -> str:
    if passphrase := os.environ.get(PASSPHRASE_VARIABLE):
        return passphrase
    first = getpass.getpass("Passphrase of the backup's secrets: ")
    if confirm and getpass.getpass("The same passphrase again: ") != first:
        raise SystemExit("ledgerdrop: the two passphrases differ.")
    if len(first) < 12:
        raise SystemExit("ledgerdrop: a passphrase has at least 12 characters.")
    return first


def _where() -> str:
    """The database and the storage this process uses, as the operator configured them (no
    password: the summary may be kept in a ticket)."""
    from django.core.files.storage import FileSystemStorage, default_storage
    from django.db import connection

    database = connection.settings_dict
    host = f" on {database['HOST']}" if database.get("HOST") else ""
    if isinstance(default_storage, FileSystemStorage):
        files = f"the files folder {default_storage.location}"
    else:
        files = f"the bucket {getattr(default_storage, 'bucket_name', '?')}"
    return f"the {connection.vendor} database {database['NAME']}{host} and {files}"


def run(args: argparse.Namespace) -> int:
    from ledgerdrop.config.backup.manifest import BackupRefused

    try:
        if args.command == "restore":
            return _restore(args)
        if args.verify:
            return _verify(args.destination)
        return _backup(args)
    except BackupRefused as refusal:
        print(f"ledgerdrop: {refusal}", file=sys.stderr)
        return 1


def _backup(args: argparse.Namespace) -> int:
    from ledgerdrop.config.backup import snapshot
    from ledgerdrop.config.backup.progress import Progress, size

    passphrase = _passphrase(confirm=True) if args.include_secrets else None
    result = snapshot.take(args.destination, passphrase=passphrase, progress=Progress(sys.stderr))
    manifest = result.manifest
    rows = sum(manifest.counts.values())
    print(
        f"Backup {result.snapshot}: {rows} rows, {len(manifest.files)} stored files "
        f"({size(sum(manifest.files.values()))}; {result.files_copied} new, "
        f"{size(result.bytes_copied)} copied), secrets "
        f"{'included, encrypted' if passphrase else 'left out'}."
    )
    print(f"  of {_where()}")
    return 0


def _verify(source: Path) -> int:
    from ledgerdrop.config.backup import restore
    from ledgerdrop.config.backup.progress import Progress

    snapshot, manifest = restore.verify(source, Progress(sys.stderr))
    print(
        f"Backup {snapshot} is whole: {sum(manifest.counts.values())} rows, "
        f"{len(manifest.files)} stored files, all match their checksums "
        f"(taken {manifest.created_at} by Ledgerdrop {manifest.ledgerdrop_version})."
    )
    return 0


def _restore(args: argparse.Namespace) -> int:
    from ledgerdrop.config.backup import restore
    from ledgerdrop.config.backup.progress import Progress, size

    passphrase = _passphrase(confirm=False) if args.include_secrets else None
    report = restore.restore(args.source, passphrase=passphrase, progress=Progress(sys.stderr))
    manifest = report.manifest
    print(f"Restored {report.snapshot} (taken {manifest.created_at})")
    print(f"  into {_where()}:")
    for label, count in sorted(manifest.counts.items()):
        if count:
            print(f"  {label}: {count}")
    print(f"  rows: {sum(manifest.counts.values())}")
    stored = len(manifest.files) + len(manifest.named_files)
    print(f"  stored files: {stored} ({size(report.bytes_stored)})")
    if report.migrated:
        print(f"  then applied {len(report.migrated)} migration(s) of this release")
    for line in report.told:
        print(f"  {line}")
    return 0
