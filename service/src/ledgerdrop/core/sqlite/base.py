"""Django's SQLite backend, with the threads of this process queuing for the write lock in the
order they asked for it.

Every transaction starts with `BEGIN IMMEDIATE` (settings), which takes SQLite's write lock. A
thread that finds the lock taken is left to SQLite's busy handler, which sleeps and retries
with growing pauses: under load, a waiter asleep for 100 ms keeps losing the lock to threads
that arrive just as it is freed, and a few requests wait sixty times longer than the median.
Here a thread first takes its place in a FIFO lane, so that only one thread of the process at a
time asks SQLite for the lock, in arrival order; other processes still meet the busy timeout.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

from django.db import OperationalError
from django.db.backends.sqlite3 import base


class WriterLane:
    """A first-come, first-served lock whose waiters can give up after a timeout."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._queue: deque[object] = deque()

    def acquire(self, timeout: float) -> bool:
        place = object()
        with self._changed:
            self._queue.append(place)
            if self._changed.wait_for(lambda: self._queue[0] is place, timeout):
                return True
            self._queue.remove(place)
            self._changed.notify_all()
            return False

    def release(self) -> None:
        with self._changed:
            self._queue.popleft()
            self._changed.notify_all()

    def __len__(self) -> int:
        with self._changed:
            return len(self._queue)


lane = WriterLane()


class DatabaseWrapper(base.DatabaseWrapper):
    _in_lane = False

    def _start_transaction_under_autocommit(self) -> None:
        timeout = float(self.settings_dict["OPTIONS"].get("timeout", 5))
        if not lane.acquire(timeout):
            # The same error as SQLite's own busy timeout: the request is answered 503.
            raise OperationalError("database is locked (writers queued too long)")
        self._in_lane = True
        try:
            super()._start_transaction_under_autocommit()  # type: ignore[misc]  # private in the stubs
        except BaseException:
            self._leave_lane()
            raise

    def _commit(self) -> Any:
        try:
            return super()._commit()  # type: ignore[misc]  # private in the stubs
        finally:
            self._leave_lane()

    def _rollback(self) -> Any:
        try:
            return super()._rollback()  # type: ignore[misc]  # private in the stubs
        finally:
            self._leave_lane()

    def _close(self) -> Any:
        try:
            return super()._close()  # type: ignore[misc]  # private in the stubs
        finally:
            self._leave_lane()

    def _leave_lane(self) -> None:
        if self._in_lane:
            self._in_lane = False
            lane.release()
