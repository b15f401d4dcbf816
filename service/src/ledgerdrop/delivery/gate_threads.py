"""The gate's own few threads, on which everything in front of Django that touches the database
runs: the long-polls' checks (`longpoll.py`), the bundles and acks it answers (`gate.py`) and
the SQLite wake-up watcher (`wakeups.py`)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from django.conf import settings
from django.db import close_old_connections, connection

T = TypeVar("T")

_executor: ThreadPoolExecutor | None = None


def _threads() -> ThreadPoolExecutor:
    global _executor
    if _executor is None:
        _executor = ThreadPoolExecutor(
            settings.LEDGERDROP_LONG_POLL_THREADS, thread_name_prefix="ledgerdrop-long-poll"
        )
    return _executor


def _checked(func: Callable[..., T], *args: Any) -> T:
    try:
        return func(*args)
    finally:
        # On PostgreSQL the connection goes back to the pool, as a request thread's does. On
        # SQLite there is no pool, and opening a connection (WAL, Django's functions: about
        # 3 ms) cost more than most checks: each of the gate's few threads keeps its own,
        # unless it failed.
        if connection.vendor != "sqlite" or connection.errors_occurred:
            close_old_connections()


def on_gate_threads(func: Callable[..., T], *args: Any) -> asyncio.Future[T]:
    """`func(*args)` run on a few threads of the gate's own, not one per request: nothing is
    held per waiting poll, and their database connections are counted in the node's budget
    (settings). Not through asgiref: it would copy the poll's context for every check, and the
    database connection it opened would stay in that context for as long as the poll waits."""
    return asyncio.get_running_loop().run_in_executor(_threads(), _checked, func, *args)
