"""What `ledgerdrop backup` and `ledgerdrop restore` say while they work, so that whoever runs
them on a large data folder or bucket sees it move: on a terminal, one line per step (rows,
stored files), rewritten in place at most every half second and left with its final count.
Anywhere else (a log, a cron mail) nothing: the command's final summary says it all once.
The nightly backup and the tests pass no stream, and nothing is shown."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO

EVERY_SECONDS = 0.5


def size(count: int) -> str:
    """Bytes as an IT person reads them (decimal units, as disks are sold)."""
    amount, unit = float(count), "B"
    for bigger in ("kB", "MB", "GB", "TB"):
        if amount < 1000:
            break
        amount, unit = amount / 1000, bigger
    return f"{count} B" if unit == "B" else f"{amount:.1f} {unit}"


class Progress:
    def __init__(
        self, stream: TextIO | None = None, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._stream = stream if stream is not None and stream.isatty() else None
        self._clock = clock
        self._label = ""
        self._total: int | None = None
        self._unit = ""
        self.count = 0
        self.bytes = 0
        self._shown_at = 0.0

    def start(self, label: str, *, unit: str, total: int | None = None) -> None:
        self._label, self._unit, self._total = label, unit, total
        self.count = self.bytes = 0
        self._shown_at = self._clock()
        self._show(end="")

    def step(self, size: int = 0) -> None:
        self.count += 1
        self.bytes += size
        if self._stream is not None and self._clock() - self._shown_at >= EVERY_SECONDS:
            self._shown_at = self._clock()
            self._show(end="")

    def finish(self) -> None:
        self._show(end="\n")

    def _show(self, *, end: str) -> None:
        if self._stream is None:
            return
        of = f" of {self._total:,}" if self._total is not None else ""
        copied = f", {size(self.bytes)}" if self.bytes else ""
        # `\r` and the clearing of the line: the next count is written over this one.
        self._stream.write(f"\r\x1b[K{self._label}: {self.count:,}{of} {self._unit}{copied}{end}")
        self._stream.flush()
