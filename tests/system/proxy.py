"""A misbehaving TCP proxy on loopback, for fault tests: it drops connections, cuts them after a
random number of bytes (mid-request or mid-answer) and delays what it forwards.

It runs an asyncio loop in a thread of the test process. Faults are drawn per connection from a
seeded random generator, so a failing run can be replayed; `faults` counts what was done.
"""

from __future__ import annotations

import asyncio
import random
import threading
from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Misbehaviour:
    drop: float = 0.0  # share of connections closed before anything is forwarded
    cut: float = 0.0  # share of forwarded chunks at which the connection is cut, mid-chunk
    delay: float = 0.0  # share of forwarded chunks held back
    delay_seconds: tuple[float, float] = (0.01, 0.2)


@dataclass
class MisbehavingProxy:
    upstream_port: int
    seed: int = 0
    misbehaviour: Misbehaviour = field(default_factory=Misbehaviour)
    faults: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._server: asyncio.Server | None = None
        self._port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    def start(self) -> MisbehavingProxy:
        self._thread.start()
        self._ready.wait(10)
        return self

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def behave(self, misbehaviour: Misbehaviour) -> None:
        """Switch behaviour for connections accepted from now on."""
        self.misbehaviour = misbehaviour

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._connection, "127.0.0.1", 0)
        )
        self._port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    async def _connection(
        self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter
    ) -> None:
        rules = self.misbehaviour
        if self._random.random() < rules.drop:
            self.faults["dropped"] += 1
            client_w.close()
            return
        try:
            server_r, server_w = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            client_w.close()
            return
        _, pending = await asyncio.wait(
            [
                asyncio.ensure_future(self._pipe(client_r, server_w, rules)),
                asyncio.ensure_future(self._pipe(server_r, client_w, rules)),
            ],
            return_when=asyncio.FIRST_COMPLETED,
        )
        for task in pending:
            task.cancel()
        for writer in (client_w, server_w):
            writer.close()

    async def _pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, rules: Misbehaviour
    ) -> None:
        try:
            while chunk := await reader.read(16384):
                if self._random.random() < rules.cut:
                    # Part of a request or an answer, then nothing: the other side must notice.
                    writer.write(chunk[: self._random.randrange(len(chunk))])
                    await writer.drain()
                    self.faults["cut"] += 1
                    return
                if self._random.random() < rules.delay:
                    self.faults["delayed"] += 1
                    await asyncio.sleep(self._random.uniform(*rules.delay_seconds))
                writer.write(chunk)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            return
