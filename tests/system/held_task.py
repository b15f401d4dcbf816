"""A test-only background task that holds its worker until the test releases it, for tests
that need a task caught mid-run. Importable by a real `ledgerdrop worker` process started from
the repository's root (`tests` on its path)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from ledgerdrop.core.tasks import background


@background
def held(folder: str) -> None:
    """Writes its process id to `runs` when it starts, waits for `release` to exist, then
    writes it to `effects`: its effect, recorded whole once it gets that far."""
    here = Path(folder)
    with (here / "runs").open("a") as runs:
        runs.write(f"{os.getpid()}\n")
    while not (here / "release").exists():
        time.sleep(0.05)
    with (here / "effects").open("a") as effects:
        effects.write(f"{os.getpid()}\n")


def lines(path: Path) -> list[str]:
    return path.read_text().split() if path.exists() else []
