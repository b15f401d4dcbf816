"""The embedded SQLite database is for the server's user only."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper


def keep_sqlite_private(sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    """Make the database file (and its WAL and shared-memory files) readable by its owner only.

    SQLite creates a new database as 0644; its -wal and -shm files copy the database's mode, so
    fixing the database file on the first connection covers the files created later."""
    if connection.vendor != "sqlite" or os.name != "posix":
        return
    name = str(connection.settings_dict["NAME"])
    if name == ":memory:" or name.startswith("file:"):
        return
    for path in (Path(name), Path(f"{name}-wal"), Path(f"{name}-shm")):
        try:
            if path.stat().st_uid == os.getuid() and path.stat().st_mode & 0o077:
                path.chmod(0o600)
        except FileNotFoundError:
            continue
