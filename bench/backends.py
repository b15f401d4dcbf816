"""Where the delivery benchmark's server keeps its rows and files: the embedded default (SQLite
and the data folder) or, as several machines run it, PostgreSQL with the files in an
S3-compatible bucket. For the latter: a database of its own on the PostgreSQL server of
DATABASE_URL, moto's stand-alone server as the object store (as the tests use it), and the CPU
of the PostgreSQL backends that serve the Ledgerdrop server, read from /proc."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

import peers
import psycopg

from tests.object_storage import create_bucket

SQLITE = "sqlite"
POSTGRES_S3 = "postgres-s3"
BACKENDS = (SQLITE, POSTGRES_S3)
# The machine's own server, as the tests and scripts/with-postgres.sh find it.
DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/ledgerdrop"
# The Ledgerdrop server's connections say who they are (libpq reads PGAPPNAME), so that the
# CPU of its backends can be told from the bench's own and from other databases' on the server.
SERVER_APPLICATION_NAME = "ledgerdrop-bench-server"


@dataclass(frozen=True)
class ScaleOut:
    """A fresh PostgreSQL database and bucket, and what the processes need to use them."""

    database_url: str
    object_store_pid: int
    environment: dict[str, str]  # for the bench process and the server alike
    postgres: dict[str, str]  # the server's version and durability settings, for the table


def postgres_url() -> str:
    """The PostgreSQL server to measure on: DATABASE_URL's when it names one (`make bench` runs
    under scripts/with-postgres.sh), else the machine's own."""
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith(("postgres://", "postgresql://")) else DEFAULT_POSTGRES_URL


@contextmanager
def scale_out(run: Path, server_url: str) -> Iterator[ScaleOut]:
    """A database `<name>_delivery_<random>` on the server of `server_url` and a moto server with
    a new bucket; both gone afterwards."""
    parts = urlsplit(server_url)
    name = f"{parts.path.lstrip('/') or 'ledgerdrop'}_delivery_{secrets.token_hex(4)}"
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as db:
        db.execute(f'CREATE DATABASE "{name}"')
        settings = {
            setting: _show(db, setting)
            for setting in ("server_version", "fsync", "synchronous_commit")
        }
    port = peers.free_port()
    with (run / "object-store.log").open("ab") as log:
        store = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        peers.wait_for_port(port)
        bucket = create_bucket(f"http://127.0.0.1:{port}")
        yield ScaleOut(
            database_url=urlunsplit(parts._replace(path=f"/{name}")),
            object_store_pid=store.pid,
            environment={
                **bucket.environment(),
                # Several nodes sign with one key: the server refuses to start without it.
                "LEDGERDROP_SECRET_KEY": secrets.token_urlsafe(48),
            },
            postgres=settings,
        )
    finally:
        store.terminate()
        store.wait(timeout=20)
        with psycopg.connect(admin, autocommit=True) as db:
            db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _show(db: psycopg.Connection[Any], setting: str) -> str:
    row = db.execute(f"SHOW {setting}").fetchone()
    assert row is not None
    return str(row[0])


class BackendsCpu:
    """The CPU seconds of the PostgreSQL backends whose application_name is `application`, from
    start() to stop(). The server's pool keeps its connections, but one opened (or closed) in
    between is counted too: a thread looks for them every `every` seconds."""

    def __init__(self, database_url: str, application: str, every: float = 0.2) -> None:
        self.database_url = database_url
        self.application = application
        self.every = every
        self._at_start: dict[int, float] = {}
        self._last: dict[int, float] = {}
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _backends(self, db: psycopg.Connection[Any]) -> list[int]:
        rows = db.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = %s", [self.application]
        ).fetchall()
        return [int(pid) for (pid,) in rows]

    def _sample(self, db: psycopg.Connection[Any]) -> dict[int, float]:
        seconds: dict[int, float] = {}
        for pid in self._backends(db):
            try:
                seconds[pid] = peers.cpu_seconds(pid)
            except FileNotFoundError:  # it ended between the query and the read
                continue
        return seconds

    def _watch(self) -> None:
        with psycopg.connect(self.database_url, autocommit=True) as db:
            while not self._done.wait(self.every):
                self._last.update(self._sample(db))
            self._last.update(self._sample(db))

    def start(self) -> None:
        with psycopg.connect(self.database_url, autocommit=True) as db:
            self._at_start = self._sample(db)
        self._last = dict(self._at_start)
        self._thread.start()

    def stop(self) -> float:
        self._done.set()
        self._thread.join()
        return sum(seconds - self._at_start.get(pid, 0.0) for pid, seconds in self._last.items())


class CpuMeter(Protocol):
    """CPU seconds spent between start() and stop()."""

    def start(self) -> None: ...

    def stop(self) -> float: ...


class ProcessCpu:
    def __init__(self, pid: int) -> None:
        self.pid = pid
        self._at_start = 0.0

    def start(self) -> None:
        self._at_start = peers.cpu_seconds(self.pid)

    def stop(self) -> float:
        at_end: float = peers.cpu_seconds(self.pid)
        return at_end - self._at_start
