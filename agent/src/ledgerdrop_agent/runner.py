"""The downloader's loop: offers → download → place → journal → ack.

A cycle asks for offers, places them on a pool of threads sharing one HTTP connection pool,
reports the hopeless ones as failed, and acknowledges everything the journal says is placed
but not yet acknowledged — which is also how a crash between placing and acking heals.

A backlog flows without pauses: while a full page of offers is placed, the next page is asked
for (`after` its last id) and the acknowledgements go out on their own thread, so the server
answers while the disk writes. Only after the last page does a cycle wait for every
acknowledgement, before it polls again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Iterable
from concurrent.futures import CancelledError, Future
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import Protocol

from ledgerdrop_agent import policy
from ledgerdrop_agent.client import (
    Backoff,
    Cancelled,
    ClientError,
    ContentTooLong,
    DeviceClient,
    ProblemError,
    ServerUnavailable,
)
from ledgerdrop_agent.journal import Entry, Journal, State, now
from ledgerdrop_agent.logs import LOGGER, event
from ledgerdrop_agent.mainfolder import open_main_folder, problem_of
from ledgerdrop_agent.placer import (
    ChecksumMismatchError,
    PlacementError,
    Placer,
    local_problem,
    resolve_root,
)
from ledgerdrop_agent.threads import Acker, DaemonPool
from ledgerdrop_protocol import Ack, AckBatch, DeviceStatus, FailReason, FailReport, Offer, Offers
from ledgerdrop_protocol.models import BundlePart

log = logging.getLogger(LOGGER)

ACK_BATCH = 500
# Per-request cost, not bytes, limits a backlog of small invoices: files travel in bundles.
BUNDLE_FILES = 256
BUNDLE_BYTES = 8 << 20
# Bigger files are not asked for in bundles: they stream to disk on their own (and resume with
# Range after a cut), so that a bundle never holds more than this in memory at a time.
BUNDLE_PART_MAX = 1 << 20
# How long a stopping downloader waits for what is in flight (a placement finishing, an ack).
STOP_GRACE = 0.5
# A backlog flows page after page within one cycle; a cycle ends after this many, so that what
# failed is reported and the main folder looked at again every few thousand files.
PAGES_PER_CYCLE = 8
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
    """What a person watching the downloader sees; `delivery_done` is called from the download
    threads, the others from the loop's thread."""

    def batch_started(self, count: int) -> None:
        """`count` files are to be placed: once per page, several times in a cycle."""

    def delivery_done(self, outcome: Outcome) -> None: ...

    def cycle_done(self, result: CycleResult) -> None: ...

    def main_folder(self, status: DeviceStatus, created: bool) -> None:
        """The main folder's state changed (or was made just now)."""

    def setback(self, error: ClientError | PlacementError | OSError) -> None:
        """The loop met a problem it rides out by waiting."""


@dataclass(frozen=True)
class RunOptions:
    root: Path | None = None  # --root; else the main folder set on the server
    wait: int = 50
    limit: int = 500
    # Few threads with big bundles: the server pays per request, the disk per syncfs.
    workers: int = 2
    checksum_attempts: int = 3
    # How long a disk-full or missing-folder problem may last before the server is told, so
    # that an unplugged drive heals by itself but a lasting one shows up in the UI.
    give_up_after: timedelta = timedelta(hours=1)
    home: Path | None = None  # the agent home: network folders allowed on this machine


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
        self._bundles = True  # until a server says it has none
        self._known_state = ""  # nothing seen yet: the first answer comes at once
        # Halved when a bundle fails, doubled when one arrives: a network that cuts long
        # answers still carries short ones.
        self._bundle_files = BUNDLE_FILES
        self._stopping = threading.Event()
        self._status: DeviceStatus | None = None  # as last told to the server
        self._seen_status: DeviceStatus | None = None  # as last shown to the observer
        self._created = False  # the main folder was made in this cycle
        self._status_supported = True  # until a server says it has no status endpoint
        self._acker = Acker(self._acknowledge, ACK_BATCH)
        # Twice as many threads as downloads at once: half of them place what they downloaded.
        self._pool = DaemonPool(2 * self.options.workers, "ledgerdrop-download")
        self._downloads = threading.BoundedSemaphore(self.options.workers)
        self._pages = DaemonPool(1, "ledgerdrop-offers")
        self._next_page: Future[Offers | None] | None = None
        self._after_supported = True  # until a server answers a page that ignores `after`

    def stop(self) -> None:
        """Drop what is in flight (downloads, waits, retries); placements under way finish."""
        self._stopping.set()
        self.client.cancel()

    def close(self, grace: float = STOP_GRACE) -> bool:
        """Stop and wait up to `grace` seconds for the threads; whether they all ended. One
        that did not is stuck on the network and holds nothing the journal needs."""
        self.stop()
        deadline = time.monotonic() + grace
        ended = self._pool.shutdown(deadline) & self._pages.shutdown(deadline)
        return self._acker.close(deadline) and ended

    def run_forever(self, stop: threading.Event | None = None) -> None:
        """Never returns on a network fault or a local problem; only `stop`, `close()` or a
        401 end it."""
        stop = stop or self._stopping
        setbacks = 0
        while not stop.is_set() and not self._stopping.is_set():
            started = time.monotonic()
            try:
                result = self.cycle(self.options.wait)
                # Offers that only come back (unplaceable, or acks the server keeps missing)
                # would return at once on every poll: wait instead of spinning.
                stuck = bool(result.offered) and not result.wrote_something()
                if not result.offered:
                    # A proxy or server that does not hold the long-poll must not make a
                    # fleet of agents spin.
                    stop.wait(MIN_POLL_SECONDS - (time.monotonic() - started))
            except Cancelled:
                return
            except ServerUnavailable as exc:
                self._error("server_unavailable", str(exc))
                self._setback(exc)
                stuck = True
            except ProblemError as exc:
                self._error("server_refused", str(exc))
                self._setback(exc)
                stuck = True
            except (PlacementError, OSError) as exc:
                self._error("local_problem", str(exc))
                self._setback(exc)
                stuck = True
            if stuck:
                stop.wait(self.pause.delay(setbacks))
                setbacks += 1
            else:
                setbacks = 0

    def run_once(self) -> bool:
        """Place everything pending, then return whether all of it could be placed."""
        placed: set[int] = set()
        unplaced: set[int] = set()
        while True:
            result = self.cycle(0)
            newly_placed = result.ids(Kind.PLACED) - placed
            placed |= newly_placed
            unplaced = (unplaced | result.offered) - placed
            if not result.offered or not newly_placed:
                self._drop_next_page()
                self.acknowledge()
                return not unplaced

    def cycle(self, wait_seconds: int) -> CycleResult:
        """Place what the server offers: one page, or while a backlog flows, up to
        PAGES_PER_CYCLE pages, each asked for while the ones before are being placed."""
        offers = self._offers(wait_seconds)
        self._known_state = offers.state
        self.journal.note_contact(
            backlog=len(offers.deliveries), root_folder=offers.settings.root_folder
        )
        try:
            placer = self._placer_for(offers.settings.root_folder)
        except PlacementError as exc:
            self._error("main_folder_problem", exc.message, reason=exc.reason)
            self._report_status(
                DeviceStatus(
                    main_folder=self._main_folder(offers.settings.root_folder),
                    problem=problem_of(exc),
                    message=exc.message[:2000],
                )
            )
            outcomes, todo = self._sort_out(offers)
            outcomes.extend(self._problem(offer, exc) for offer in todo)
            offered = {offer.id for offer in offers.deliveries}
        else:
            self._report_status(DeviceStatus(main_folder=str(placer.root)))
            for problem in policy.make_folders(placer, offers.folders):
                self._error("folder_not_created", problem.message, reason=problem.reason)
            offered, outcomes = self._place_pages(placer, offers)
        self._settle(outcomes)
        result = CycleResult(frozenset(offered), outcomes)
        if self.observer:
            self.observer.cycle_done(result)
        return result

    def _sort_out(self, page: Offers) -> tuple[list[Outcome], list[Offer]]:
        """The outcomes of the offers the journal knows as placed, and the offers to place."""
        known: list[Outcome] = []
        todo: list[Offer] = []
        entries = self.journal.get_many(offer.id for offer in page.deliveries)
        for offer in page.deliveries:
            outcome = self._already_placed(offer, entries.get(offer.id))
            if outcome is None:
                todo.append(offer)
            else:
                known.append(outcome)
        if todo and self.observer:
            self.observer.batch_started(len(todo))
        return known, todo

    def _place_pages(self, placer: Placer, page: Offers) -> tuple[set[int], list[Outcome]]:
        """Place `page` and the pages after it: each one's batches join the download threads'
        queue as soon as it arrives, so that they never wait for the server between pages."""
        offered: set[int] = set()
        outcomes: list[Outcome] = []
        placing: list[tuple[list[Offer], Future[list[Outcome]]]] = []
        names: set[str] = set()
        for pages in range(1, PAGES_PER_CYCLE + 1):
            page_names = {offer.relative_path.casefold() for offer in page.deliveries}
            if names & page_names:
                # A name being placed comes again: the older file must be in place first (it
                # keeps the plain name), so this page starts the next cycle.
                self._next_page = Future()
                self._next_page.set_result(page)
                break
            names |= page_names
            offered.update(offer.id for offer in page.deliveries)
            known, todo = self._sort_out(page)
            outcomes += known
            placing += self._place_all(placer, todo)
            if pages == PAGES_PER_CYCLE:
                self._ask_next_page(page)  # for the next cycle, asked for meanwhile
                break
            next_page = self._page_after_now(page)
            if next_page is None:
                break
            page = next_page
        for batch, future in placing:
            outcomes += _outcomes_of(batch, future)
        return offered, outcomes

    def _setback(self, exc: ClientError | PlacementError | OSError) -> None:
        if self.observer:
            self.observer.setback(exc)

    def _offers(self, wait_seconds: int) -> Offers:
        """The page asked for during the last cycle if there is one, else a poll."""
        page = self._next_page
        self._next_page = None
        if page is not None:
            try:
                if (offers := page.result()) is not None:
                    return offers
            except ClientError as exc:
                event(log, logging.WARNING, "next_page_failed", detail=str(exc))
        # The server must know what is placed before it is polled, or it offers it again; this
        # is also how files placed before a crash or a lost acknowledgement are acknowledged.
        self.acknowledge()
        return self.client.offers(
            wait=wait_seconds, limit=self.options.limit, state=self._known_state
        )

    def _cursor(self, page: Offers) -> int | None:
        """Where the next page starts, if there may be one: a full page means more is queued."""
        if len(page.deliveries) < self.options.limit or not self._after_supported:
            return None
        return max(offer.id for offer in page.deliveries)

    def _ask_next_page(self, page: Offers) -> None:
        """Ask for the page after `page` on a thread of its own, for the next cycle."""
        if (after := self._cursor(page)) is not None:
            self._next_page = self._pages.submit(self._page_after, after, page.state)

    def _page_after_now(self, page: Offers) -> Offers | None:
        """The page after `page`, or None: none, or not now (the next poll finds the rest)."""
        if (after := self._cursor(page)) is None:
            return None
        try:
            return self._page_after(after, page.state)
        except Cancelled:
            return None  # stopping: the batches under way see it too
        except ClientError as exc:
            event(log, logging.WARNING, "next_page_failed", detail=str(exc))
            return None

    def _page_after(self, after: int, state: str) -> Offers | None:
        page = self.client.offers(wait=0, limit=self.options.limit, state=state, after=after)
        if any(offer.id <= after for offer in page.deliveries):
            # A server that ignores `after` repeats the page being placed: poll as before.
            self._after_supported = False
            return None
        return page

    def _drop_next_page(self) -> None:
        if self._next_page is not None:
            self._next_page.cancel()
            self._next_page = None

    def acknowledge(self) -> None:
        """Tell the server about every placed file the journal holds as not yet acknowledged
        (after what the acknowledging thread is sending: never twice)."""
        self._acker.join()
        while entries := self.journal.placed_not_acked(ACK_BATCH):
            self._acknowledge(entries)

    def _acknowledge(self, entries: list[Entry]) -> None:
        acks = [_ack(e) for e in entries]
        try:
            answer = self.client.ack(AckBatch(acks=acks))
        except ProblemError:
            self._ack_one_by_one(entries)
            return
        ids = [a.id for a in acks]
        self.journal.mark_acked(ids)
        event(log, logging.INFO, "acknowledged", count=len(ids))
        if ignored := sorted(set(ids) - set(answer.acknowledged)):
            event(log, logging.WARNING, "ack_not_confirmed", ids=ignored)

    @staticmethod
    def _placed_entry(delivery_id: int, sha256: str, relative_path: str, path: str) -> Entry:
        return Entry(delivery_id, sha256, relative_path, path, State.PLACED, None, None)

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

    def _already_placed(self, offer: Offer, entry: Entry | None) -> Outcome | None:
        # The journal's word is final: a placed file may since have been imported and moved
        # away by the accounting software, and placing it again would import it twice. So is
        # an offer the server makes again after a restore of an older backup, which forgot
        # the acknowledgement. Only the same bytes under the same name are that file: a server
        # restored from a backup may give a forgotten delivery's id to another one.
        if entry is None or entry.state not in {State.PLACED, State.ACKED}:
            return None
        same_file = entry.sha256 == offer.sha256 and entry.relative_path == offer.relative_path
        if not same_file or entry.placed_path is None:
            return None
        if entry.state is State.ACKED:
            self.journal.mark_placed(offer.id, offer.sha256, offer.relative_path, entry.placed_path)
        outcome = Outcome(offer, Kind.PLACED, entry.placed_path, already_there=True)
        _log_placed(outcome)
        return outcome

    def _main_folder(self, root_folder: str) -> str:
        try:
            return str(resolve_root(root_folder, self.options.root))
        except PlacementError:
            return root_folder

    def _report_status(self, status: DeviceStatus) -> None:
        """Tell the server when the main folder's state changed, so that its pages say why
        nothing arrives; an older server without the endpoint is not asked again."""
        if self.observer and (status != self._seen_status or self._created):
            self.observer.main_folder(status, self._created)
        self._seen_status, self._created = status, False
        if status == self._status or not self._status_supported:
            return
        try:
            self._status_supported = self.client.report_status(status)
        except (ProblemError, ServerUnavailable) as exc:
            event(log, logging.WARNING, "status_not_reported", detail=str(exc))
            return
        self._status = status

    def _placer_for(self, root_folder: str) -> Placer:
        # The device's own policy first: a refused folder is never created, not even once.
        root = policy.main_folder(root_folder, self.options.root, self.options.home)
        if open_main_folder(root, self.journal):
            event(log, logging.INFO, "main_folder_created", folder=root)
            self._created = True
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

    def _place_all(
        self, placer: Placer, offers: list[Offer]
    ) -> list[tuple[list[Offer], Future[list[Outcome]]]]:
        """Start placing `offers` on the download threads, in batches: each with the future of
        its outcomes."""
        # Offers for one name stay in one batch, oldest first, so that the oldest keeps the
        # plain name and the later ones get the suffixes. Windows names ignore case.
        groups: defaultdict[str, list[Offer]] = defaultdict(list)
        for offer in offers:
            groups[offer.relative_path.casefold()].append(offer)
        per_batch = max(1, min(self._bundle_files, -(-len(offers) // self.options.workers)))
        batches = _batches(groups.values(), per_batch)
        return [(batch, self._pool.submit(self._place_batch, placer, batch)) for batch in batches]

    def _place_batch(self, placer: Placer, offers: list[Offer]) -> list[Outcome]:
        """One request for the bytes, one fsync per file and per folder, one journal commit."""
        outcomes: dict[int, Outcome] = {}
        safe: list[Offer] = []
        for offer in offers:
            try:
                policy.check_offer(offer.relative_path)
            except PlacementError as exc:
                outcomes[offer.id] = self._problem(offer, exc)
            else:
                safe.append(offer)
        # While this batch is made durable and moved into place, another thread downloads.
        with self._downloads:
            staged = self._stage(placer, safe, outcomes)
        try:
            # The bytes must be durable before their name appears: after a power cut, a name
            # with no bytes behind it would be an empty invoice in the dossier.
            placer.make_durable(files=[path for _, path in staged])
        except OSError as exc:
            problem = local_problem(exc, "cannot make the downloaded files durable")
            for offer, staged_file in staged:
                Path(staged_file).unlink(missing_ok=True)
                outcomes[offer.id] = self._problem(offer, problem)
            staged = []
        placements = placer.place_many((path, o.relative_path, o.sha256) for o, path in staged)
        placed: list[tuple[int, str, str, str]] = []
        for (offer, _), placement in zip(staged, placements, strict=True):
            if isinstance(placement, PlacementError):
                outcomes[offer.id] = self._problem(offer, placement)
                continue
            path = placement.placed_path
            placed.append((offer.id, offer.sha256, offer.relative_path, path))
            outcomes[offer.id] = Outcome(offer, Kind.PLACED, path, placement.already_there)
        if placed:
            self.journal.mark_placed_many(placed)
            self._acker.put([self._placed_entry(*p) for p in placed])
        result = [outcomes[offer.id] for offer in offers]
        for outcome in result:
            if outcome.kind is Kind.PLACED:
                _log_placed(outcome)
        if self.observer:
            for outcome in result:
                self.observer.delivery_done(outcome)
        return result

    def _stage(
        self, placer: Placer, offers: list[Offer], outcomes: dict[int, Outcome]
    ) -> list[tuple[Offer, str | Path]]:
        """Download `offers` into the staging folder, verified: from a bundle, else one by one.
        What cannot be staged gets its outcome in `outcomes`."""
        from_bundle = self._fetch_bundle(placer, offers)
        unreachable: ClientError | None = None
        staged: list[tuple[Offer, str | Path]] = []
        for offer in offers:
            if unreachable is None and self._stopping.is_set():
                unreachable = Cancelled("stopped")
            if unreachable is not None:  # no use trying the others now
                outcomes[offer.id] = _retry(offer, unreachable)
                continue
            try:
                staged.append((offer, from_bundle.get(offer.id) or self._download(placer, offer)))
            except PlacementError as exc:
                outcomes[offer.id] = self._problem(offer, exc)
            except (ServerUnavailable, Cancelled) as exc:
                unreachable = exc
                outcomes[offer.id] = _retry(offer, exc)
            except ProblemError as exc:
                outcomes[offer.id] = Outcome(
                    offer, Kind.FAILED, reason=FailReason.DOWNLOAD_FAILED, message=str(exc)
                )
        return staged

    def _fetch_bundle(self, placer: Placer, offers: list[Offer]) -> dict[int, str]:
        """Stage the small files of `offers` from one bundle; the others (left out by the
        server, too big, corrupted, or after a cut) are fetched one by one afterwards."""
        wanted = {o.id: o for o in offers if o.size <= BUNDLE_PART_MAX}
        staged: dict[int, str] = {}
        if not wanted or not self._bundles:
            return staged

        def stage(part: BundlePart, data: memoryview) -> None:
            offer = wanted[part.id]
            try:
                staged[offer.id] = placer.stage_bytes(
                    offer.id, offer.size, offer.sha256, data, sync=False
                )
            except ChecksumMismatchError as exc:
                event(log, logging.WARNING, "checksum_mismatch", id=offer.id, detail=exc.message)

        try:
            self._bundles = self.client.download_many(
                {offer.id: offer.size for offer in wanted.values()}, stage
            )
        except ProblemError as exc:
            # Each file on its own then, so that a bad one is reported on its own.
            event(log, logging.WARNING, "bundle_refused", detail=str(exc))
        except ServerUnavailable as exc:
            # A network that cuts long answers may still carry short ones: file by file now,
            # smaller bundles next time.
            self._bundle_files = max(1, self._bundle_files // 2)
            event(log, logging.WARNING, "bundle_failed", files=len(wanted), detail=str(exc))
        except Cancelled:
            pass  # the loop over the files notices the stop
        else:
            self._bundle_files = min(BUNDLE_FILES, self._bundle_files * 2)
        return staged

    def _download(self, placer: Placer, offer: Offer) -> Path:
        fetch = partial(self.client.download, offer.content_url, size=offer.size)
        mismatch: ChecksumMismatchError | None = None
        for attempt in range(1, self.options.checksum_attempts + 1):
            try:
                return placer.stage(offer.id, offer.size, offer.sha256, fetch)
            except ContentTooLong as exc:
                # Not a transmission error: a server that sends more than it announced is not
                # trusted with this file again until someone sends it anew.
                raise PlacementError(
                    FailReason.CHECKSUM_MISMATCH, str(exc), permanent=True
                ) from exc
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
        """Report what failed and log what is to be retried; placed files were logged as they
        were placed, or found in the journal."""
        for outcome in outcomes:
            offer = outcome.offer
            if outcome.kind is Kind.FAILED:
                self._report_failure(outcome)
            elif outcome.kind is not Kind.PLACED:
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


def _outcomes_of(batch: list[Offer], placing: Future[list[Outcome]]) -> list[Outcome]:
    try:
        return placing.result()
    except CancelledError:  # the downloader stopped before the batch was started
        stopped = Cancelled("stopped")
        return [_retry(offer, stopped) for offer in batch]


def _log_placed(outcome: Outcome) -> None:
    name = "already_placed" if outcome.already_there else "placed"
    event(log, logging.INFO, name, id=outcome.offer.id, path=outcome.placed_path)


def _retry(offer: Offer, exc: ClientError) -> Outcome:
    return Outcome(offer, Kind.RETRY, reason=FailReason.DOWNLOAD_FAILED, message=str(exc))


def _batches(groups: Iterable[list[Offer]], per_batch: int) -> list[list[Offer]]:
    """Whole groups into batches of about `per_batch` files and at most BUNDLE_BYTES (a file
    bigger than that travels alone)."""
    batches: list[list[Offer]] = []
    current: list[Offer] = []
    size = 0
    for group in groups:
        group_size = sum(offer.size for offer in group)
        if current and (len(current) + len(group) > per_batch or size + group_size > BUNDLE_BYTES):
            batches.append(current)
            current, size = [], 0
        current.extend(group)
        size += group_size
    if current:
        batches.append(current)
    return batches


def _ack(entry: Entry) -> Ack:
    return Ack(id=entry.id, sha256=entry.sha256, placed_path=entry.placed_path or "")


def _minutes(duration: timedelta) -> str:
    return f"{int(duration.total_seconds() // 60)} min"
