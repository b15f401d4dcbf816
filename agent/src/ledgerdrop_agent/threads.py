"""The downloader's own threads: the download pool, which a stopping process does not wait
for, and the thread that acknowledges placed files while the downloads go on."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from functools import partial
from typing import Any

from ledgerdrop_agent.client import ClientError
from ledgerdrop_agent.journal import Entry
from ledgerdrop_agent.logs import LOGGER, event

log = logging.getLogger(LOGGER)


class Acker:
    """Acknowledges placed batches one request at a time on its own thread, while the download
    threads go on: the server's work on acks overlaps ours, and its database sees one writer
    from us, not eight. What fails here stays in the journal for `Runner.acknowledge`."""

    def __init__(self, send: Callable[[list[Entry]], None], batch: int) -> None:
        self._send = send
        self._batch = batch  # entries sent together at most, unless one put brings more
        self._queue: queue.Queue[list[Entry] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._work, name="ledgerdrop-ack", daemon=True)
        self._thread.start()

    def put(self, entries: list[Entry]) -> None:
        self._queue.put(entries)

    def join(self) -> None:
        self._queue.join()

    def close(self, deadline: float) -> bool:
        self._queue.put(None)
        self._thread.join(max(0.0, deadline - time.monotonic()))
        return not self._thread.is_alive()

    def _work(self) -> None:
        while (first := self._queue.get()) is not None:
            entries, taken = list(first), 1
            while len(entries) < self._batch:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                taken += 1
                if more is None:
                    self._queue.put(None)  # close() after this last send
                    break
                entries += more
            try:
                self._send(entries)
            except ClientError as exc:
                event(log, logging.WARNING, "ack_postponed", detail=str(exc))
            finally:
                for _ in range(taken):
                    self._queue.task_done()


class DaemonPool:
    """A few worker threads that a stopping process does not wait for: a download stuck on a
    trickling server must not keep the downloader alive (concurrent.futures' pool joins its
    threads at exit). An abandoned download leaves only a staging file, cleared on start."""

    def __init__(self, workers: int, name: str) -> None:
        self._tasks: queue.SimpleQueue[tuple[Future[Any], Callable[[], Any]] | None]
        self._tasks = queue.SimpleQueue()
        self._threads = [
            threading.Thread(target=self._work, name=f"{name}-{n}", daemon=True)
            for n in range(workers)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, function: Callable[..., Any], *args: Any) -> Future[Any]:
        future: Future[Any] = Future()
        self._tasks.put((future, partial(function, *args)))
        return future

    def shutdown(self, deadline: float) -> bool:
        """Cancel what has not started, and wait until `deadline` for the rest."""
        while True:
            try:
                task = self._tasks.get_nowait()
            except queue.Empty:
                break
            if task is not None:
                task[0].cancel()
        for _ in self._threads:
            self._tasks.put(None)
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        return not any(thread.is_alive() for thread in self._threads)

    def _work(self) -> None:
        while (task := self._tasks.get()) is not None:
            future, call = task
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(call())
            except BaseException as exc:
                future.set_exception(exc)
