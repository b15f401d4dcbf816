"""Wake a device's waiting long-poll within a second of a delivery being queued for it.

Two paths lead here: a delivery queued in this process wakes its device at once (on commit);
one queued by another process (the task worker, another web process) reaches this process

- on PostgreSQL, as a NOTIFY sent by the queuing transaction (delivered only if it commits),
  heard by one listening connection per process;
- on SQLite, which has no notifications, through a single watcher per event loop that asks
  SQLite every few milliseconds whether another connection committed (`PRAGMA data_version`,
  which reads no table), and only then looks for recently queued deliveries of the devices
  waiting here.

Either way one connection or one cheap query per process, whatever the number of waiting
devices, and nothing at all while no device waits."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import sqlite3
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Protocol

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.utils import timezone

from ledgerdrop.delivery.gate_threads import on_gate_threads

logger = logging.getLogger(__name__)

# A delivery row carries the moment it was queued, but becomes visible at commit, a little
# later; looking back this far covers the gap. Extra wake-ups are harmless: the poll re-checks.
_LOOKBACK = dt.timedelta(seconds=5)
CHANNEL = "ledgerdrop_delivery_queued"
# How long the listener waits for a notification before checking whether anyone still waits.
_LISTEN_TICK_SECONDS = 1.0
_RECONNECT_MAX_SECONDS = 10.0


def notify_queued(device_id: int) -> None:
    """Tell every server process that a delivery for this device is being queued. Sent inside
    the caller's transaction, PostgreSQL delivers it on commit and drops it on rollback."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_notify(%s, %s)", [CHANNEL, str(device_id)])


def wake_on_commit(device_id: int) -> None:
    """Make the device's waiting long-poll answer once the current transaction commits, in
    this process and in every other: something it is told (deliveries, folders, its main
    folder) changed."""
    notify_queued(device_id)
    transaction.on_commit(lambda: hub.wake(device_id))


class Waiter(Protocol):
    """What a waiting long-poll registers: woken by `set()`, on its event loop's thread."""

    def set(self) -> None: ...


def _uses_notify() -> bool:
    return connections[DEFAULT_DB_ALIAS].vendor == "postgresql"


class WakeupHub:
    def __init__(self) -> None:
        self._lock = threading.RLock()
        # A list per device, not a set: a device has one poll waiting, rarely two.
        self._waiters: dict[int, list[tuple[asyncio.AbstractEventLoop, Waiter]]] = defaultdict(list)
        self._watchers: dict[asyncio.AbstractEventLoop, asyncio.Task[None]] = {}
        self._listener: threading.Thread | None = None

    def register(self, device_id: int, waiter: Waiter) -> None:
        loop = asyncio.get_running_loop()
        with self._lock:
            self._waiters[device_id].append((loop, waiter))
            if _uses_notify():
                self._start_listener()
            else:
                watcher = self._watchers.get(loop)
                if watcher is None or watcher.done():
                    self._watchers[loop] = loop.create_task(self._watch(loop))

    def unregister(self, device_id: int, waiter: Waiter) -> None:
        with self._lock:
            waiters = self._waiters.get(device_id)
            if waiters is None:
                return
            with contextlib.suppress(ValueError):
                waiters.remove((asyncio.get_running_loop(), waiter))
            if not waiters:
                del self._waiters[device_id]

    def wake(self, device_id: int) -> None:
        """Wake every long-poll of this device held by this process; callable from any thread."""
        with self._lock:
            waiters = list(self._waiters.get(device_id, ()))
        for loop, waiter in waiters:
            if not loop.is_closed():
                loop.call_soon_threadsafe(waiter.set)

    def wake_all(self) -> None:
        with self._lock:
            device_ids = list(self._waiters)
        for device_id in device_ids:
            self.wake(device_id)

    def _anyone_waits(self) -> bool:
        with self._lock:
            return bool(self._waiters)

    def _start_listener(self) -> None:
        # Called with the lock held.
        if self._listener is None or not self._listener.is_alive():
            self._listener = threading.Thread(
                target=self._listen, name="ledgerdrop-wakeups", daemon=True
            )
            self._listener.start()

    def _listen(self) -> None:
        """One thread per process: LISTEN on a connection of its own and wake the devices named
        by each notification. It ends (closing its connection) once nobody waits, so that an
        idle process holds no connection."""
        delay = 0.5
        while True:
            with self._lock:
                if not self._waiters:
                    # Under the lock, so that a device registering now starts a new listener.
                    self._listener = None
                    return
            db = connections.create_connection(DEFAULT_DB_ALIAS)
            try:
                db.ensure_connection()
                raw = db.connection
                raw.execute(f"LISTEN {CHANNEL}")
                # Whatever was queued while no one listened (at start, or while reconnecting)
                # is found by the waiting polls themselves: they look again when woken.
                self.wake_all()
                delay = 0.5
                while self._anyone_waits():
                    for notification in raw.notifies(timeout=_LISTEN_TICK_SECONDS):
                        if notification.payload.isdigit():
                            self.wake(int(notification.payload))
            except Exception:
                logger.exception("wake-up listener lost its connection; reconnecting")
                time.sleep(delay)
                delay = min(delay * 2, _RECONNECT_MAX_SECONDS)
            finally:
                # On PostgreSQL's pool the connection goes back for others: not listening.
                with contextlib.suppress(Exception):
                    if db.connection is not None:
                        db.connection.execute(f"UNLISTEN {CHANNEL}")
                db.close()

    def _waits_on(self, loop: asyncio.AbstractEventLoop) -> bool:
        """Whether a poll of this event loop waits: the first waiter nearly always says so,
        so that a watcher looking many times a second costs nothing per waiting device."""
        with self._lock:
            return any(
                waiter_loop is loop
                for waiters in self._waiters.values()
                for waiter_loop, _ in waiters
            )

    def _waiting_on(self, loop: asyncio.AbstractEventLoop, device_id: int) -> bool:
        with self._lock:
            return any(waiter_loop is loop for waiter_loop, _ in self._waiters.get(device_id, ()))

    async def _watch(self, loop: asyncio.AbstractEventLoop) -> None:
        since = timezone.now() - _LOOKBACK
        commits = CommitWatch(connection.settings_dict["NAME"])
        try:
            while True:
                await asyncio.sleep(settings.LEDGERDROP_WAKEUP_POLL_SECONDS)
                if not self._waits_on(loop):
                    with self._lock:
                        if not self._waits_on(loop):
                            self._watchers.pop(loop, None)
                            return
                    continue
                checked_at = timezone.now()
                try:
                    # On the gate's threads, as the polls' own checks: asgiref's hand-over,
                    # many times a second, cost more than the look.
                    queued = await on_gate_threads(_devices_with_new_deliveries, since, commits)
                except Exception:
                    logger.exception("wake-up watcher query failed; retrying")
                    commits.forget()  # the commit it was looking for is still to be looked for
                    continue
                if queued is None:
                    continue  # nothing committed since the last look
                since = checked_at - _LOOKBACK
                # The few devices with new deliveries, not the many waiting ones: looked at
                # per device, so that a look costs nothing per waiting device.
                for device_id in queued:
                    if self._waiting_on(loop, device_id):
                        self.wake(device_id)
        finally:
            commits.close()


class CommitWatch:
    """Whether another connection committed to a SQLite database since the last look, from
    `PRAGMA data_version` on a connection of its own: no table is read, so the watcher may look
    every few milliseconds. A database it cannot open as a file (in memory) always counts as
    changed."""

    def __init__(self, database: str | Path) -> None:
        self._database = str(database)
        self._connection: sqlite3.Connection | None = None
        self._version: int | None = None

    def changed(self) -> bool:
        if self._database == ":memory:" or "mode=memory" in self._database:
            return True
        if self._connection is None:
            # Used from one of the gate's threads at a time, never two at once.
            self._connection = sqlite3.connect(self._database, check_same_thread=False)
        version: int = self._connection.execute("PRAGMA data_version").fetchone()[0]
        changed = version != self._version
        self._version = version
        return changed

    def forget(self) -> None:
        """Count the next look as a change, whatever it finds."""
        self._version = None

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def _devices_with_new_deliveries(since: dt.datetime, commits: CommitWatch) -> set[int] | None:
    """Devices with deliveries queued since `since`; None when nothing was committed since the
    last look."""
    from ledgerdrop.delivery.models import Delivery

    if not commits.changed():
        return None
    return set(
        Delivery.objects.filter(state=Delivery.State.QUEUED, queued_at__gte=since)
        .values_list("device_id", flat=True)
        .distinct()
    )


hub = WakeupHub()
