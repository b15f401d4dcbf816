"""Memory per idle long-poll: many devices each holding `GET deliveries?wait=…` open against one
server process, compared with a bare uvicorn app holding as many idle requests."""

from __future__ import annotations

import asyncio
import resource
import time
from dataclasses import dataclass

from peers import cpu_seconds, rss_bytes, thread_count

from ledgerdrop_protocol import routes

OPEN_AT_ONCE = 200


def raise_file_limit(wanted: int) -> int:
    """Each connection is a file descriptor on both sides; children inherit the limit. Returns
    the limit in force: without the right to raise the hard limit, the hard limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= wanted:
        return soft
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, max(hard, wanted)))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


async def _hold(port: int, requests: list[bytes]) -> list[Connection]:
    held: list[Connection] = []
    for start in range(0, len(requests), OPEN_AT_ONCE):
        batch = requests[start : start + OPEN_AT_ONCE]
        opened = await asyncio.gather(*(asyncio.open_connection("127.0.0.1", port) for _ in batch))
        for (reader, writer), request in zip(opened, batch, strict=True):
            writer.write(request)
            held.append((reader, writer))
        await asyncio.gather(*(writer.drain() for _, writer in held[start:]))
    return held


async def _still_held(held: list[Connection]) -> int:
    """How many requests are still waiting: not answered, not reset by the server."""
    waiting = 0
    for reader, _ in held:
        try:
            await asyncio.wait_for(reader.read(1), 0.001)
        except TimeoutError:
            waiting += 1
        except ConnectionError:
            pass
    return waiting


def settle(pid: int, quiet_seconds: float = 2.0, timeout: float = 1200) -> None:
    """Wait until the server has taken every request in: its CPU stops moving (a server that
    polls its database now and then still counts as quiet). Ten thousand polls arriving at once
    take the server minutes on SQLite: each one's start looks its token and its folders up and
    writes the device's presence."""
    deadline = time.monotonic() + timeout
    last, quiet_since = cpu_seconds(pid), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = cpu_seconds(pid)
        if now - last > 0.1:
            last, quiet_since = now, time.monotonic()
        elif time.monotonic() - quiet_since >= quiet_seconds:
            return
    raise RuntimeError(f"the server never went quiet in {timeout} s")


@dataclass(frozen=True)
class Holding:
    asked: int
    held: int  # still waiting when measured: neither answered nor dropped
    rss_before: int
    rss_holding: int
    threads_holding: int

    @property
    def bytes_per_connection(self) -> float:
        return (self.rss_holding - self.rss_before) / max(1, self.held)


def memory_per_connection(pid: int, port: int, requests: list[bytes]) -> Holding:
    """Open one connection per request, let the server take them all in, measure its RSS."""
    settle(pid)
    before = rss_bytes(pid)

    async def scenario() -> Holding:
        connections = await _hold(port, requests)
        await asyncio.to_thread(settle, pid)
        holding, threads = rss_bytes(pid), thread_count(pid)
        held = await _still_held(connections)
        for _, writer in connections:
            writer.close()
        return Holding(len(requests), held, before, holding, threads)

    return asyncio.run(scenario())


def long_poll_request(token: str, wait: int) -> bytes:
    return (
        f"GET {routes.OFFERS.url()}?wait={wait}&limit=100 HTTP/1.1\r\n"
        f"Host: 127.0.0.1\r\nAuthorization: Bearer {token}\r\nAccept: application/json\r\n\r\n"
    ).encode()


def bare_request() -> bytes:
    return b"GET /wait HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
