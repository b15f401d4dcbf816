"""Files written so that a crash never leaves a half-written one under its name."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def write_durably(path: Path, data: bytes, *, check: Callable[[Path], None] | None = None) -> None:
    """Write `data` beside `path`, make it durable, let `check` refuse it (by raising), then
    rename it over `path` and make the rename durable too. Readers see the old file or the
    whole new one, never part of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    temp = Path(temp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        if check is not None:
            check(temp)
        temp.replace(path)
    finally:
        temp.unlink(missing_ok=True)
    _sync_folder(path.parent)


def _sync_folder(folder: Path) -> None:
    # The rename lives in the folder's own entry: without this a power cut can undo it. (The
    # service runs on Linux and other POSIX systems, where a folder opens for reading.)
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
