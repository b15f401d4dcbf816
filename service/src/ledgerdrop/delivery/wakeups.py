"""Wake a device's waiting long-poll within a second of a delivery being queued for it.

Two paths lead here: a delivery queued in this process wakes its device at once (on commit);
one queued by another process (the task worker, another web process) is found by a single
watcher per process that looks every fraction of a second for recently queued deliveries of the
devices waiting here. One cheap query per process, whatever the number of waiting devices."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import threading
from collections import defaultdict

from asgiref.sync import sync_to_async
from django.conf import settings
from django.utils import timezone

logger = logging.getLogger(__name__)

# A delivery row carries the moment it was queued, but becomes visible at commit, a little
# later; looking back this far covers the gap. Extra wake-ups are harmless: the poll re-checks.
_LOOKBACK = dt.timedelta(seconds=5)


class WakeupHub:
    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._waiters: dict[int, set[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = (
            defaultdict(set)
        )
        self._watchers: dict[asyncio.AbstractEventLoop, asyncio.Task[None]] = {}

    def register(self, device_id: int) -> asyncio.Event:
        loop = asyncio.get_running_loop()
        event = asyncio.Event()
        with self._lock:
            self._waiters[device_id].add((loop, event))
            watcher = self._watchers.get(loop)
            if watcher is None or watcher.done():
                self._watchers[loop] = loop.create_task(self._watch(loop))
        return event

    def unregister(self, device_id: int, event: asyncio.Event) -> None:
        with self._lock:
            waiters = self._waiters.get(device_id)
            if waiters is None:
                return
            waiters.discard((asyncio.get_running_loop(), event))
            if not waiters:
                del self._waiters[device_id]

    def wake(self, device_id: int) -> None:
        """Wake every long-poll of this device held by this process; callable from any thread."""
        with self._lock:
            waiters = list(self._waiters.get(device_id, ()))
        for loop, event in waiters:
            if not loop.is_closed():
                loop.call_soon_threadsafe(event.set)

    def waiting_devices(self, loop: asyncio.AbstractEventLoop) -> set[int]:
        with self._lock:
            return {
                device_id
                for device_id, waiters in self._waiters.items()
                if any(waiter_loop is loop for waiter_loop, _ in waiters)
            }

    async def _watch(self, loop: asyncio.AbstractEventLoop) -> None:
        since = timezone.now() - _LOOKBACK
        while True:
            await asyncio.sleep(settings.LEDGERDROP_WAKEUP_POLL_SECONDS)
            waiting = self.waiting_devices(loop)
            if not waiting:
                with self._lock:
                    if not self.waiting_devices(loop):
                        self._watchers.pop(loop, None)
                        return
                continue
            checked_at = timezone.now()
            try:
                queued = await sync_to_async(_devices_with_new_deliveries, thread_sensitive=False)(
                    since
                )
            except Exception:
                logger.exception("wake-up watcher query failed; retrying")
                continue
            since = checked_at - _LOOKBACK
            for device_id in queued & waiting:
                self.wake(device_id)


def _devices_with_new_deliveries(since: dt.datetime) -> set[int]:
    from ledgerdrop.delivery.models import Delivery

    return set(
        Delivery.objects.filter(state=Delivery.State.QUEUED, queued_at__gte=since)
        .values_list("device_id", flat=True)
        .distinct()
    )


hub = WakeupHub()
