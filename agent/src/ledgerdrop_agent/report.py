"""What `ledgerdrop-agent run` says while it works, in its user's language: connected, waiting,
placed N files, the main folder made or missing, errors — a line per change, never one per
poll. (The log file keeps the structured events for support, in English.)"""

from __future__ import annotations

import threading
from collections.abc import Callable

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn

from ledgerdrop_agent.client import ClientError, ProblemError, ServerUnavailable
from ledgerdrop_agent.i18n import _, ngettext
from ledgerdrop_agent.placer import PlacementError
from ledgerdrop_agent.runner import CycleResult, Kind, Outcome
from ledgerdrop_protocol import DeviceStatus, FailReason


def failure_reason(reason: FailReason | None) -> str:
    """A reason the downloader gives, in words."""
    words = {
        FailReason.CHECKSUM_MISMATCH: _("the file received differs from the file sent"),
        FailReason.UNSAFE_PATH: _("the file path given by the server was refused"),
        FailReason.FOLDER_MISSING: _("the folder is missing"),
        FailReason.FOLDER_NOT_WRITABLE: _("the folder is not writable"),
        FailReason.DISK_FULL: _("the disk is full"),
        FailReason.DOWNLOAD_FAILED: _("the download failed"),
    }
    return words.get(reason or FailReason.OTHER, _("another error"))


class Reporter:
    """A `runner.Observer` that prints to `say` — with a progress bar on a terminal."""

    def __init__(self, say: Callable[[str], None], console: Console | None = None) -> None:
        self._say = say
        self._connected = False
        self._out_of_reach = False
        self._blocked = 0
        self._lock = threading.Lock()
        self._progress: Progress | None = None
        self._placing = 0  # the files the progress bar counts, until the cycle is done
        if console is not None:
            self._progress = Progress(
                SpinnerColumn(),
                TextColumn(_("placing documents")),
                BarColumn(),
                MofNCompleteColumn(),
                console=console,
                transient=True,
            )
            self._task = self._progress.add_task("placing", total=0, start=False)

    def starting(self, server: str, device_id: int) -> None:
        message = _("Connecting to {server} as device {device}…")
        self._say(message.format(server=server, device=device_id))

    def batch_started(self, count: int) -> None:
        if self._progress is not None:
            with self._lock:
                if self._placing:  # the next page of a backlog: the same bar, longer
                    self._placing += count
                    self._progress.update(self._task, total=self._placing)
                    return
                self._placing = count
                self._progress.reset(self._task, total=count, start=True)
                self._progress.start()

    def delivery_done(self, outcome: Outcome) -> None:
        if self._progress is not None:
            with self._lock:
                self._progress.advance(self._task)
                if self._progress.finished:
                    self._progress.stop()

    def cycle_done(self, result: CycleResult) -> None:
        self._answered()
        if self._progress is not None:
            with self._lock:
                self._placing = 0
                self._progress.stop()
        placed = [o for o in result.outcomes if o.kind is Kind.PLACED and not o.already_there]
        if placed:
            self._say(
                ngettext(
                    "Placed {count} document.", "Placed {count} documents.", len(placed)
                ).format(count=len(placed))
            )
        for outcome in result.outcomes:
            if outcome.kind is Kind.FAILED:
                self._say(
                    _("Could not place {path}: {reason} ({detail}).").format(
                        path=outcome.offer.relative_path,
                        reason=failure_reason(outcome.reason),
                        detail=outcome.message,
                    )
                )
        blocked = [o for o in result.outcomes if o.kind in {Kind.BLOCKED, Kind.RETRY}]
        if len(blocked) != self._blocked and blocked:
            self._say(
                ngettext(
                    "{count} document waits: {reason}; trying again.",
                    "{count} documents wait: {reason}; trying again.",
                    len(blocked),
                ).format(count=len(blocked), reason=failure_reason(blocked[0].reason))
            )
        self._blocked = len(blocked)

    def main_folder(self, status: DeviceStatus, created: bool) -> None:
        self._answered()  # the server's answer named the folder
        if status.problem is not None:
            self._say(_("Nothing can be placed: {reason}").format(reason=status.message))
        elif created:
            self._say(_("Created the main folder {folder}.").format(folder=status.main_folder))
        else:
            self._say(_("Main folder: {folder}.").format(folder=status.main_folder))

    def _answered(self) -> None:
        if self._connected:
            return
        again = self._out_of_reach
        self._connected, self._out_of_reach = True, False
        if again:
            self._say(_("Connected again."))
        else:
            self._say(_("Connected. Waiting for documents (Ctrl-C to stop)."))

    def setback(self, error: ClientError | PlacementError | OSError) -> None:
        if isinstance(error, ServerUnavailable):
            if not self._out_of_reach:
                self._say(
                    _("Cannot reach the server ({detail}); trying again.").format(detail=error)
                )
            self._connected, self._out_of_reach = False, True
        elif isinstance(error, ProblemError):
            self._say(_("The server refused a request: {detail}").format(detail=error))
        else:
            self._say(_("Local problem: {detail}").format(detail=error))
