"""The database: writers that take turns (`in_turns`), and the embedded SQLite database, for
the server's user only and with the SQL functions that the app uses."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from django.db import IntegrityError, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from ledgerdrop.core.errors import Kind, ServiceError

T = TypeVar("T")


def in_turns(rows: QuerySet[Any], work: Callable[[], T], *, tries: int = 3) -> T:
    """Do `work` in one transaction that first locks `rows`, so that two runs of the same work
    take turns: the second waits for the first, then finds its work done. A writer that takes
    no lock may still break a unique constraint meanwhile (IntegrityError): the try is rolled
    back and started again, and then sees that writer's rows. After `tries` collisions it
    gives up: the work is left to a later run."""
    for _try in range(tries):
        try:
            with transaction.atomic():
                list(rows.select_for_update().order_by("pk"))
                return work()
        except IntegrityError:
            continue
    raise ServiceError(
        "kept_colliding",
        _("Other work kept writing the same records at the same time; try again later."),
        Kind.UNAVAILABLE,
    )


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


def add_sqlite_functions(sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    """Give SQLite PostgreSQL's `regexp_replace(text, pattern, replacement, flags)`, so that a
    statement that names files in SQL (the nightly transfer) reads the same on both. Only the
    `g` flag (every match, not just the first) is understood."""
    if connection.vendor != "sqlite":
        return
    connection.connection.create_function("regexp_replace", 4, _regexp_replace, deterministic=True)


def _regexp_replace(text: str | None, pattern: str, replacement: str, flags: str) -> str | None:
    if text is None:
        return None
    return re.sub(pattern, replacement, text, count=0 if "g" in flags else 1)
