"""The downloader's loop: offers → download → place → journal → ack.

A cycle asks for offers, places them on a pool of threads sharing one HTTP connection pool,
reports the hopeless ones as failed, and acknowledges everything the journal says is placed
but not yet acknowledged — which is also how a crash between placing and acking heals.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import Protocol

from ledgerdrop_agent.client import Backoff, DeviceClient, ProblemError, ServerUnavailable
from ledgerdrop_agent.journal import Entry, Journal, State, now
from ledgerdrop_agent.logs import LOGGER, event
from ledgerdrop_agent.placer import (
    ChecksumMismatchError,
    PlacementError,
    Placer,
    check_relative_path,
    resolve_root,
)
from ledgerdrop_protocol import Ack, AckBatch, FailReason, FailReport, Offer

log = logging.getLogger(LOGGER)

ACK_BATCH = 500
MIN_POLL_SECONDS = 1.0


class Kind(StrEnum):
    PLACED = "placed"
    FAILED = "failed"  # reported to the server; not offered again until someone re-sends it
    BLOCKED = "blocked"  # a local problem that may heal (disk full, drive missing): retried
    RETRY = "retry"  # the network or the server failed: retried


@dataclass(frozen=True)
class Outcome:
    offer: Offer
    kind: Kind
    placed_path: str | None = None
    already_there: bool = False
    reason: FailReason | None = None
    message: str = ""


@dataclass(frozen=True)
class CycleResult:
    offered: frozenset[int]
    outcomes: list[Outcome] = field(default_factory=list)

    def ids(self, kind: Kind) -> set[int]:
        return {o.offer.id for o in self.outcomes if o.kind is kind}

    def wrote_something(self) -> bool:
        return any(o.kind is Kind.PLACED and not o.already_there for o in self.outcomes)


class Observer(Protocol):
    """What a terminal shows while the loop works; called from the download threads too."""

    def batch_started(self, count: int) -> None: ...

    def delivery_done(self, outcome: Outcome) -> None: ...


@dataclass(frozen=True)
class RunOptions:
    root: Path | None = None  # --root; else the main folder set on the server
    wait: int = 50
    limit: int = 100
    workers: int = 8
    checksum_attempts: int = 3
    # How long a disk-full or missing-folder problem may last before the server is told, so
    # that an unplugged drive heals by itself but a lasting one shows up in the UI.
    give_up_after: timedelta = timedelta(hours=1)


class Runner:
    def __init__(
        self,
        client: DeviceClient,
        journal: Journal,
        options: RunOptions | None = None,
        *,
        observer: Observer | None = None,
        pause: Backoff | None = None,
    ) -> None:
        self.client = client
        self.journal = journal
        self.options = options or RunOptions()
        self.observer = observer
        self.pause = pause or Backoff(base=1.0, cap=30.0)
        self._placer: Placer | None = None
        self._pool = ThreadPoolExecutor(self.options.workers, "ledgerdrop-download")

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def run_forever(self, stop: threading.Event) -> None:
        """Never returns on a network fault or a local problem; only `stop` or a 401 end it."""
        setbacks = 0
        while not stop.is_set():
            started = time.monotonic()
            try:
                self.acknowledge()
                result = self.cycle(self.options.wait)
                # Offers that only come back (unplaceable, or acks the server keeps missing)
                # would return at once on every poll: wait instead of spinning.
                stuck = bool(result.offered) and not result.wrote_something()
                if not result.offered:
                    # A proxy or server that does not hold the long-poll must not make a
                    # fleet of agents spin.
                    stop.wait(MIN_POLL_SECONDS - (time.monotonic() - started))
            except ServerUnavailable as exc:
                self._error("server_unavailable", str(exc))
                stuck = True
            except ProblemError as exc:
                self._error("server_refused", str(exc))
                stuck = True
            except (PlacementError, OSError) as exc:
                self._error("local_problem", str(exc))
                stuck = True
            if stuck:
                stop.wait(self.pause.delay(setbacks))
                setbacks += 1
            else:
                setbacks = 0

    def run_once(self) -> bool:
        """Place everything pending, then return whether all of it could be placed."""
        self.acknowledge()
        placed: set[int] = set()
        unplaced: set[int] = set()
        while True:
            result = self.cycle(0)
            newly_placed = result.ids(Kind.PLACED) - placed
            placed |= newly_placed
            unplaced = (unplaced | result.offered) - placed
            if not result.offered or not newly_placed:
                return not unplaced

    def cycle(self, wait_seconds: int) -> CycleResult:
        offers = self.client.offers(wait=wait_seconds, limit=self.options.limit)
        self.journal.note_contact(
            backlog=len(offers.deliveries), root_folder=offers.settings.root_folder
        )
        result = CycleResult(frozenset(o.id for o in offers.deliveries))
        todo: list[Offer] = []
        for offer in offers.deliveries:
            known = self._already_placed(offer)
            if known is None:
                todo.append(offer)
            else:
                result.outcomes.append(known)
        if todo and self.observer:
            self.observer.batch_started(len(todo))
        try:
            placer = self._placer_for(offers.settings.root_folder)
        except PlacementError as exc:
            self._error("main_folder_problem", exc.message, reason=exc.reason)
            result.outcomes.extend(self._problem(offer, exc) for offer in todo)
        else:
            for problem in placer.make_folders(offers.folders):
                self._error("folder_not_created", problem.message, reason=problem.reason)
            result.outcomes.extend(self._place_all(placer, todo))
        self._settle(result.outcomes)
        self.acknowledge()
        return result

    def acknowledge(self) -> None:
        """Tell the server about every placed file the journal holds as not yet acknowledged."""
        while entries := self.journal.placed_not_acked(ACK_BATCH):
            acks = [_ack(e) for e in entries]
            try:
                answer = self.client.ack(AckBatch(acks=acks))
            except ProblemError:
                self._ack_one_by_one(entries)
                continue
            ids = [a.id for a in acks]
            self.journal.mark_acked(ids)
            event(log, logging.INFO, "acknowledged", count=len(ids))
            if ignored := sorted(set(ids) - set(answer.acknowledged)):
                event(log, logging.WARNING, "ack_not_confirmed", ids=ignored)

    def _ack_one_by_one(self, entries: list[Entry]) -> None:
        # One bad ack must not hold back the others forever.
        for entry in entries:
            try:
                self.client.ack(AckBatch(acks=[_ack(entry)]))
            except ProblemError as exc:
                message = f"the server refused the acknowledgement: {exc}"
                self.journal.mark_failed(entry.id, entry.sha256, entry.relative_path, message)
                self._error("ack_refused", message, id=entry.id)
            else:
                self.journal.mark_acked([entry.id])

    def _already_placed(self, offer: Offer) -> Outcome | None:
        # The journal's word is final: a placed file may since have been imported and moved
        # away by the accounting software, and placing it again would import it twice.
        entry = self.journal.get(offer.id)
        if entry is None or entry.state not in {State.PLACED, State.ACKED}:
            return None
        if entry.sha256 != offer.sha256 or entry.placed_path is None:
            return None
        if entry.state is State.ACKED:
            self.journal.mark_placed(offer.id, offer.sha256, offer.relative_path, entry.placed_path)
        return Outcome(offer, Kind.PLACED, entry.placed_path, already_there=True)

    def _placer_for(self, root_folder: str) -> Placer:
        root = resolve_root(root_folder, self.options.root)
        if self._placer is not None and self._placer.root == root:
            self._placer.prepare()  # the drive may have gone since the last poll
            return self._placer
        placer = Placer(root)
        placer.prepare()
        self.journal.note_main_folder(root)
        if removed := placer.clear_staging():
            event(log, logging.INFO, "staging_cleared", folder=placer.staging, files=removed)
        self._placer = placer
        return placer

    def _place_all(self, placer: Placer, offers: list[Offer]) -> list[Outcome]:
        # Offers for one name go through one thread, oldest first, so that the oldest keeps
        # the plain name and the later ones get the suffixes. Windows names ignore case.
        groups: defaultdict[str, list[Offer]] = defaultdict(list)
        for offer in offers:
            groups[offer.relative_path.casefold()].append(offer)
        futures = [self._pool.submit(self._place_group, placer, g) for g in groups.values()]
        wait(futures)
        return [outcome for future in futures for outcome in future.result()]

    def _place_group(self, placer: Placer, offers: list[Offer]) -> list[Outcome]:
        outcomes = []
        for offer in offers:
            outcome = self._place_one(placer, offer)
            if self.observer:
                self.observer.delivery_done(outcome)
            outcomes.append(outcome)
        return outcomes

    def _place_one(self, placer: Placer, offer: Offer) -> Outcome:
        try:
            check_relative_path(offer.relative_path)
            staged = self._download(placer, offer)
            self.journal.mark_staged(offer.id, offer.sha256, offer.relative_path)
            placement = placer.place(staged, offer.relative_path, offer.sha256)
        except PlacementError as exc:
            return self._problem(offer, exc)
        except ServerUnavailable as exc:
            return Outcome(offer, Kind.RETRY, reason=FailReason.DOWNLOAD_FAILED, message=str(exc))
        except ProblemError as exc:
            return Outcome(offer, Kind.FAILED, reason=FailReason.DOWNLOAD_FAILED, message=str(exc))
        self.journal.mark_placed(offer.id, offer.sha256, offer.relative_path, placement.placed_path)
        return Outcome(offer, Kind.PLACED, placement.placed_path, placement.already_there)

    def _download(self, placer: Placer, offer: Offer) -> Path:
        fetch = partial(self.client.download, offer.content_url)
        mismatch: ChecksumMismatchError | None = None
        for attempt in range(1, self.options.checksum_attempts + 1):
            try:
                return placer.stage(offer.id, offer.size, offer.sha256, fetch)
            except ChecksumMismatchError as exc:
                mismatch = exc
                event(
                    log,
                    logging.WARNING,
                    "checksum_mismatch",
                    id=offer.id,
                    attempt=attempt,
                    detail=exc.message,
                )
        assert mismatch is not None
        raise PlacementError(
            FailReason.CHECKSUM_MISMATCH,
            f"{mismatch.message} ({self.options.checksum_attempts} downloads)",
            permanent=True,
        )

    def _problem(self, offer: Offer, exc: PlacementError) -> Outcome:
        if exc.permanent:
            return Outcome(offer, Kind.FAILED, reason=exc.reason, message=exc.message)
        since = self.journal.note_problem(offer.id, offer.sha256, offer.relative_path, exc.message)
        lasted = now() - since
        if lasted >= self.options.give_up_after:
            message = f"{exc.message} (unresolved for {_minutes(lasted)})"
            return Outcome(offer, Kind.FAILED, reason=exc.reason, message=message)
        return Outcome(offer, Kind.BLOCKED, reason=exc.reason, message=exc.message)

    def _settle(self, outcomes: list[Outcome]) -> None:
        for outcome in outcomes:
            offer = outcome.offer
            if outcome.kind is Kind.PLACED:
                event(
                    log,
                    logging.INFO,
                    "already_placed" if outcome.already_there else "placed",
                    id=offer.id,
                    path=outcome.placed_path,
                )
            elif outcome.kind is Kind.FAILED:
                self._report_failure(outcome)
            else:
                self._error(
                    outcome.kind.value,
                    outcome.message,
                    id=offer.id,
                    reason=outcome.reason,
                    path=offer.relative_path,
                )

    def _report_failure(self, outcome: Outcome) -> None:
        offer, reason = outcome.offer, outcome.reason or FailReason.OTHER
        self.journal.mark_failed(offer.id, offer.sha256, offer.relative_path, outcome.message)
        self._error("failed", outcome.message, id=offer.id, reason=reason, path=offer.relative_path)
        try:
            self.client.fail(offer.id, FailReport(reason=reason, message=outcome.message[:2000]))
        except (ProblemError, ServerUnavailable) as exc:
            # Still offered then: the next attempt reaches the same verdict and reports again.
            event(log, logging.WARNING, "failure_not_reported", id=offer.id, detail=str(exc))

    def _error(self, name: str, message: str, **fields: object) -> None:
        event(log, logging.ERROR, name, detail=message, **fields)
        self.journal.note_error(message)


def _ack(entry: Entry) -> Ack:
    return Ack(id=entry.id, sha256=entry.sha256, placed_path=entry.placed_path or "")


def _minutes(duration: timedelta) -> str:
    return f"{int(duration.total_seconds() // 60)} min"
