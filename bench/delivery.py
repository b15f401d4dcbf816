"""The delivery benchmark (`make bench`): the real server and the real downloader over loopback.

1. 10,000 invoices of realistic sizes queued at once for one device: files/s from queued to
   placed and acknowledged, and the CPU seconds of the server and the agent; on the embedded
   default (SQLite, files in the data folder) and on PostgreSQL with the files in an
   S3-compatible bucket (moto's server standing in for it), where the CPU of the object store
   and of the server's PostgreSQL backends is counted too (`--backends`, bench/backends.py);
2. the time from *send* to the file in its folder, one document at a time (p50, p99), on the
   embedded default;
3. as peers, in the same run: `rclone copy` of the same files from a static web server, and the
   disk's own limit for durable placement (8 threads: write, fsync, rename);
4. the memory of 10,000 idle long-polling devices in one server process, per connection,
   against a bare uvicorn app holding as many idle requests, on the embedded default.

Each run writes into a new folder under bench/results/ (deleting thousands of files slows this
disk down for minutes): results.json and results.md; the table is printed too.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import hashlib
import json
import os
import platform
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(1, str(BENCH.parent))  # the test builders (tests/builders.py) seed the data

import backends  # noqa: E402
import idle  # noqa: E402
import peers  # noqa: E402

Document = tuple[str, bytes]  # relative path, bytes


# -- documents ------------------------------------------------------------------------------


def make_documents(count: int, rng: random.Random, prefix: str = "") -> list[Document]:
    """80 % of 5-20 KB, 15 % of 20-60 KB, 5 % of 150-300 KB (those with an embedded PDF), in
    50 dossiers, the way BOB Demat folders look."""
    documents = []
    for n in range(count):
        roll = rng.random()
        if roll < 0.80:
            size, pdf = rng.randint(5_000, 20_000), False
        elif roll < 0.95:
            size, pdf = rng.randint(20_000, 60_000), False
        else:
            size, pdf = rng.randint(150_000, 300_000), True
        kind = "ventes" if n % 3 else "achats"
        path = f"{prefix}D{n % 50:03d}/{kind}/2026-{n:05d} Fournisseur {n % 97} SA.xml"
        documents.append((path, _invoice(n, size, pdf, rng)))
    return documents


def _invoice(number: int, size: int, pdf: bool, rng: random.Random) -> bytes:
    head = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Invoice xmlns="urn:oasis:names:specification:'
        'ubl:schema:xsd:Invoice-2">\n'
        f"<cbc:ID>2026-{number:05d}</cbc:ID>\n"
    ).encode()
    tail = b"</Invoice>\n"
    room = size - len(head) - len(tail)
    if pdf:
        raw = b"%PDF-1.7\n" + rng.randbytes(room * 3 // 4 - 120)
        body = (
            b'<cac:AdditionalDocumentReference><cbc:EmbeddedDocumentBinaryObject mimeCode="'
            b'application/pdf" filename="invoice.pdf">'
            + base64.b64encode(raw)
            + b"</cbc:EmbeddedDocumentBinaryObject></cac:AdditionalDocumentReference>\n"
        )
    else:
        line = 0
        parts: list[bytes] = []
        while sum(len(part) for part in parts) < room:
            line += 1
            parts.append(
                f'<cac:InvoiceLine><cbc:ID>{line}</cbc:ID><cbc:InvoicedQuantity unitCode="C62">'
                f"{rng.randint(1, 40)}</cbc:InvoicedQuantity><cbc:LineExtensionAmount currencyID="
                f'"EUR">{rng.randint(1, 99999) / 100:.2f}</cbc:LineExtensionAmount><cac:Item>'
                f"<cbc:Name>Article {rng.randint(1000, 9999)}</cbc:Name></cac:Item>"
                "</cac:InvoiceLine>\n".encode()
            )
        body = b"".join(parts)[:room]
    return head + body + tail


# -- processes ------------------------------------------------------------------------------


def server_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    return {**env, "LEDGERDROP_DATA_DIR": str(data_dir), "LEDGERDROP_LOG_LEVEL": "WARNING", **extra}


def start_server(data_dir: Path, port: int, log: Path, **extra: str) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "ledgerdrop.config.cli", "serve", "--no-migrate",
             "--port", str(port)],
            env=server_env(data_dir, **extra), stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    peers.wait_for_port(port)
    return process


def start_agent(home: Path, root: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "ledgerdrop_agent", "run", "--root", str(root),
         "--log-file", str(home / "agent.log")],
        env={**os.environ, "LEDGERDROP_AGENT_HOME": str(home)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_until(condition: Any, timeout: float, what: str, every: float = 0.01) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(every)


# -- the measurements -----------------------------------------------------------------------


class Bench:
    def __init__(
        self, run: Path, rng: random.Random, server_environment: Mapping[str, str] | None = None
    ) -> None:
        """`server_environment`: what the server process needs on top of this process's own
        environment (the database and the bucket when they are not the embedded default)."""
        self.run = run
        self.rng = rng
        self.data_dir = run / "server"
        self.server_environment = dict(server_environment or {})
        from django.core.management import call_command

        from ledgerdrop.delivery import services
        from tests import builders

        call_command("migrate", verbosity=0)
        self.firm = builders.firm("Fiduciaire Bench")
        self.root = run / "bob-demat"
        self.root.mkdir()
        credential = services.register_device(self.firm, name="bench", root_folder=str(self.root))
        self.device, self.token = credential.device, credential.token

    def _agent_home(self, name: str, url: str) -> Path:
        from ledgerdrop_agent.config import Credential, save_credential

        home = self.run / name
        save_credential(home, Credential(url, self.device.pk, self.token))
        return home

    def _store(self, documents: list[Document]) -> list[Any]:
        from ledgerdrop.core import storage

        with ThreadPoolExecutor(8) as pool:
            return list(pool.map(storage.put, (data for _, data in documents)))

    def _queue(self, documents: list[Document], blobs: list[Any]) -> None:
        from django.db import transaction

        from ledgerdrop.delivery import services

        with transaction.atomic():
            for (path, _), blob in zip(documents, blobs, strict=True):
                services.queue_delivery(self.device, relative_path=path, blob=blob)

    def _queued_left(self) -> bool:
        from ledgerdrop.delivery.models import Delivery

        return Delivery.objects.filter(device=self.device, state=Delivery.State.QUEUED).exists()

    def _delivered(self) -> int:
        from ledgerdrop.delivery.models import Delivery

        return Delivery.objects.filter(device=self.device, state=Delivery.State.DELIVERED).count()

    def transfer(
        self, documents: list[Document], others: Mapping[str, backends.CpuMeter] | None = None
    ) -> dict[str, Any]:
        """Files/s and the CPU seconds of the server, the agent and `others` (by name) from
        the queueing of every document to the last acknowledgement."""
        blobs = self._store(documents)
        port = peers.free_port()
        server = start_server(
            self.data_dir, port, self.run / "server.log", **self.server_environment
        )
        agent = start_agent(self._agent_home("agent", f"http://127.0.0.1:{port}"), self.root)
        meters = {
            "server": backends.ProcessCpu(server.pid),
            "agent": backends.ProcessCpu(agent.pid),
            **(others or {}),
        }
        try:
            self.device.refresh_from_db()
            wait_until(self._agent_is_waiting, 30, "the agent's first long-poll")
            os.sync()
            for meter in meters.values():
                meter.start()
            self._queue(documents, blobs)
            started = time.perf_counter()
            # Looked at every 20 ms on the same two cores: whether one queued row is left, an
            # index seek, rather than a count of thousands of rows.
            wait_until(lambda: not self._queued_left(), 900, "the transfer", 0.02)
            seconds = time.perf_counter() - started
            cpu = {name: meter.stop() for name, meter in meters.items()}
            if (delivered := self._delivered()) != len(documents):
                raise RuntimeError(f"{delivered:,} of {len(documents):,} documents delivered")
        finally:
            stop(agent)
            stop(server)
        self._verify(documents)
        return {
            "files": len(documents),
            "bytes": sum(len(data) for _, data in documents),
            "seconds": seconds,
            "files_per_second": len(documents) / seconds,
            **{f"{name}_cpu_seconds": spent for name, spent in cpu.items()},
            # The two sides of the transfer itself, whatever stores the rows and the files.
            "cpu_ms_per_file": 1000 * (cpu["server"] + cpu["agent"]) / len(documents),
        }

    def _agent_is_waiting(self) -> bool:
        from ledgerdrop.delivery.models import Device

        return Device.objects.filter(pk=self.device.pk, last_seen_at__isnull=False).exists()

    def _verify(self, documents: list[Document]) -> None:
        """Every file in place once, byte for byte; nothing left in staging."""
        staging = self.root / ".ledgerdrop-staging"
        marker = self.root / ".ledgerdrop"  # the downloader's mark on its main folder
        placed = [
            p
            for p in self.root.rglob("*")
            if p.is_file() and staging not in p.parents and p != marker
        ]
        wanted = {path: hashlib.sha256(data).hexdigest() for path, data in documents}
        if extra := [p for p in placed if p.relative_to(self.root).as_posix() not in wanted]:
            raise RuntimeError(f"unexpected files (duplicates?): {extra[:5]}")
        for path, digest in wanted.items():
            if hashlib.sha256((self.root / path).read_bytes()).hexdigest() != digest:
                raise RuntimeError(f"{path} differs from the source")
        if any(staging.iterdir()):
            raise RuntimeError("staging leftovers")

    def latency(self, sends: int) -> dict[str, Any]:
        """Send one document at a time to an idle agent. The server runs in this process, as a
        send from the web app does: the commit wakes the device's waiting long-poll at once."""
        import uvicorn

        from ledgerdrop.config.asgi import application

        # Dossier folders of their own (a file lies exactly two folders deep under the main one).
        documents = make_documents(sends + 1, self.rng, prefix="LATENCY-")
        blobs = self._store(documents)
        port = peers.free_port()
        server = uvicorn.Server(
            uvicorn.Config(application, port=port, lifespan="off", log_level="warning")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        peers.wait_for_port(port)
        agent = start_agent(
            self._agent_home("agent-latency", f"http://127.0.0.1:{port}"), self.root
        )
        timings = []
        try:
            for index, ((path, _), blob) in enumerate(zip(documents, blobs, strict=True)):
                before = self._delivered()
                time.sleep(self.rng.uniform(0.02, 0.06))  # the agent is back in its long-poll
                sent = time.perf_counter()
                self._queue([(path, b"")], [blob])
                target = self.root / path
                # Polling every millisecond: finer would starve the server thread of the GIL.
                wait_until(target.exists, 30, f"{path} in place", every=0.001)
                if index:  # the first one also waited for the agent to start
                    timings.append(time.perf_counter() - sent)
                wait_until(lambda b=before: self._delivered() > b, 30, "the ack", every=0.002)
        finally:
            stop(agent)
            server.should_exit = True
            thread.join(30)
        milliseconds = sorted(1000 * t for t in timings)
        return {
            "sends": len(milliseconds),
            "p50_ms": statistics.median(milliseconds),
            "p99_ms": milliseconds[max(0, round(0.99 * len(milliseconds)) - 1)],
            "max_ms": milliseconds[-1],
        }

    def idle_long_polls(self, count: int) -> dict[str, Any]:
        from ledgerdrop.delivery.models import Device, hash_secret

        tokens = [f"ldd_idle_{n:05d}_{self.rng.getrandbits(64):x}" for n in range(count)]
        Device.objects.bulk_create(
            [
                Device(firm=self.firm, name=f"idle {n}", root_folder="~/bob-demat",
                       token_hash=hash_secret(token))
                for n, token in enumerate(tokens)
            ],
            batch_size=1000,
        )  # fmt: skip
        # A socket per connection on both sides, and whatever the server holds per request.
        file_limit = idle.raise_file_limit(10 * count + 1000)
        warm = [idle.long_poll_request(token, 600) for token in tokens[:200]]
        polls = [idle.long_poll_request(token, 600) for token in tokens]

        port = peers.free_port()
        server = start_server(
            self.data_dir,
            port,
            self.run / "server-idle.log",
            LEDGERDROP_LONG_POLL_MAX_SECONDS="600",
        )
        try:
            idle.memory_per_connection(server.pid, port, warm)
            ours = idle.memory_per_connection(server.pid, port, polls)
        finally:
            stop(server)

        port = peers.free_port()
        bare = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "idle_app:app", "--app-dir", str(BENCH),
             "--port", str(port), "--log-level", "warning"],
        )  # fmt: skip
        try:
            peers.wait_for_port(port)
            idle.memory_per_connection(bare.pid, port, [idle.bare_request()] * 200)
            theirs = idle.memory_per_connection(bare.pid, port, [idle.bare_request()] * count)
        finally:
            stop(bare)
        return {
            "connections": count,
            "file_descriptor_limit": file_limit,
            "ledgerdrop": {**vars(ours), "bytes_per_connection": ours.bytes_per_connection},
            "bare_uvicorn": {**vars(theirs), "bytes_per_connection": theirs.bytes_per_connection},
        }


# -- the peers ------------------------------------------------------------------------------


def rclone(run: Path, documents: list[Document], transfers: int) -> dict[str, Any]:
    static = run / "static"
    for path, data in documents:
        target = static / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    os.sync()
    server, url, which = peers.static_server(static, run / "nginx")
    try:
        result = peers.rclone_copy(url, run / "rclone", len(documents), transfers)
    finally:
        stop(server)
    return {**vars(result), "static_server": which}


def disk(run: Path, documents: list[Document]) -> dict[str, Any]:
    os.sync()
    return dict(vars(peers.disk_limit(documents, run / "disk")))


# -- PostgreSQL with object storage ---------------------------------------------------------


def transfer_scaled_out(run: Path, files: int, seed: int) -> dict[str, Any]:
    """The transfer on PostgreSQL (a database of its own) with the files in a bucket, in this
    process, which has not set Django up yet: the same documents as on the embedded default."""
    run.mkdir(parents=True, exist_ok=True)
    with backends.scale_out(run, backends.postgres_url()) as scale:
        environment = {**scale.environment, "DATABASE_URL": scale.database_url}
        os.environ.update(server_env(run / "server", **environment))
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ledgerdrop.config.settings")
        import django

        django.setup()
        from django.db import connections

        rng = random.Random(seed)
        documents = make_documents(files, rng)
        server_environment = {**environment, "PGAPPNAME": backends.SERVER_APPLICATION_NAME}
        bench = Bench(run, rng, server_environment)
        others: dict[str, backends.CpuMeter] = {
            "object_store": backends.ProcessCpu(scale.object_store_pid),
            "postgres": backends.BackendsCpu(scale.database_url, backends.SERVER_APPLICATION_NAME),
        }
        result = bench.transfer(documents, others)
        # The pool's connections go before the database is dropped under them (close_pool is
        # Django 5.1's, not yet in its stubs).
        connections["default"].close_pool()  # type: ignore[attr-defined]
    return {**result, "postgres": scale.postgres}


# -- report ---------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines()
                  if line.startswith("model name")), platform.processor())  # fmt: skip
    memory = next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal"))  # fmt: skip
    mounts = Path("/proc/mounts").read_text().splitlines()
    root_fs = next((m.split()[2] for m in mounts if m.split()[1] == "/"), "?")
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "memory_gib": round(int(memory) / 2**20, 1),
        "filesystem": root_fs,
        "kernel": platform.release(),
        "python": platform.python_version(),
        # Other work on the machine skews every number: say how busy it was.
        "load_average_at_start": os.getloadavg()[0],
    }


BACKEND_TITLES = {
    backends.SQLITE: "the embedded default: SQLite, files in the data folder",
    backends.POSTGRES_S3: "PostgreSQL, files in an S3-compatible bucket (moto's server)",
}


def met(ok: bool) -> str:
    return "yes" if ok else "**no**"


def transfer_rows(t: dict[str, Any], rclone: dict[str, Any], disk: dict[str, Any]) -> list[str]:
    ratio_rclone = t["files_per_second"] / rclone["files_per_second"]
    ratio_disk = t["files_per_second"] / disk["files_per_second"]

    def per_file(side: str) -> str:
        seconds = t[f"{side}_cpu_seconds"]
        return f"{1000 * seconds / t['files']:.3f} ms ({seconds:.1f} CPU s)"

    rows = [
        f"| files/s, {t['files']:,} files queued → placed, fsynced, verified, acked "
        f"| {t['files_per_second']:,.0f} | rclone copy {rclone['files_per_second']:,.0f} "
        f"({rclone['note']}, {rclone['static_server']}) | {ratio_rclone:.2f}× | ≥ 1.0× "
        f"| {met(ratio_rclone >= 1.0)} |",
        f"| files/s against the disk's limit | {t['files_per_second']:,.0f} "
        f"| {disk['note']} {disk['files_per_second']:,.0f} | {ratio_disk:.2f}× | | |",
        f"| CPU per file, server + downloader | {t['cpu_ms_per_file']:.3f} ms: server "
        f"{per_file('server')} + downloader {per_file('agent')} | | | | |",
    ]
    if "object_store_cpu_seconds" in t:
        rows.append(
            f"| CPU per file, object store (moto, standing in for S3) "
            f"| {per_file('object_store')} | | | | |"
        )
    if "postgres_cpu_seconds" in t:
        rows.append(
            f"| CPU per file, PostgreSQL (the server's backends) | {per_file('postgres')} | | | | |"
        )
    return rows


def table(results: dict[str, Any]) -> str:
    transfers, rclone, disk = results["transfers"], results["rclone"], results["disk"]
    m = results["machine"]
    lines = [
        f"Delivery benchmark, {results['started']} — {m['cores']} cores ({m['cpu']}), "
        f"{m['memory_gib']} GiB, {m['filesystem']}, Linux {m['kernel']}, Python {m['python']}, "
        f"load average {m['load_average_at_start']:.1f} at start",
    ]
    for backend, t in transfers.items():
        title = BACKEND_TITLES[backend]
        if "postgres" in t:
            pg = t["postgres"]
            title += (
                f"; PostgreSQL {pg['server_version']}, fsync {pg['fsync']}, "
                f"synchronous_commit {pg['synchronous_commit']}"
            )
        lines += [
            "",
            f"On {title}:",
            "",
            "| measure | Ledgerdrop | peer | ratio | goal | met |",
            "|---|---|---|---|---|---|",
            *transfer_rows(t, rclone, disk),
        ]
        if backend != backends.SQLITE:
            continue
        if lat := results.get("latency"):
            lines.append(
                f"| send → file in place, {lat['sends']} sends | p50 {lat['p50_ms']:.1f} ms, "
                f"p99 {lat['p99_ms']:.1f} ms (max {lat['max_ms']:.1f}) | | | p99 < 100 ms "
                f"| {met(lat['p99_ms'] < 100)} |"
            )
        if idle_ := results.get("idle"):
            ours, bare = idle_["ledgerdrop"], idle_["bare_uvicorn"]
            ours_kb = ours["bytes_per_connection"] / 1024
            bare_kb = bare["bytes_per_connection"] / 1024
            ratio_idle = ours_kb / bare_kb
            all_held = ours["held"] == ours["asked"]
            lines.append(
                f"| memory per idle long-poll, {idle_['connections']:,} devices | "
                f"{ours_kb:.1f} KB ({ours['held']:,} held, {ours['threads_holding']:,} threads) "
                f"| bare uvicorn {bare_kb:.1f} KB ({bare['held']:,} held; "
                f"{idle_['file_descriptor_limit']:,} open files allowed) | {ratio_idle:.2f}× "
                f"| ≤ 2× | {met(ratio_idle <= 2 and all_held)} |"
            )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--sends", type=int, default=200)
    parser.add_argument("--idle", type=int, default=10_000, help="idle long-polling devices")
    parser.add_argument("--rclone-transfers", type=int, default=8)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--out", type=Path, default=BENCH / "results")
    parser.add_argument(
        "--backends",
        default=",".join(backends.BACKENDS),
        help="where the server keeps rows and files, for the transfer: "
        f"{' and/or '.join(backends.BACKENDS)} (default: both); the send → placed latency and "
        "the idle long-polls are measured with sqlite",
    )
    parser.add_argument(
        "--only-idle",
        action="store_true",
        help="measure only the idle long-polls' memory (results.json, no table)",
    )
    # Internal: the transfer on PostgreSQL with object storage, in a process of its own (Django
    # is set up once per process), into the folder --out.
    parser.add_argument("--scaled-out", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    chosen = args.backends.split(",")
    if unknown := set(chosen) - set(backends.BACKENDS):
        parser.error(f"unknown backends {sorted(unknown)}; choose among {backends.BACKENDS}")

    if args.scaled_out:
        result = transfer_scaled_out(args.out, args.files, args.seed)
        (args.out / "transfer.json").write_text(json.dumps(result, indent=2) + "\n")
        return 0

    started = dt.datetime.now(dt.UTC)
    run = args.out / started.strftime("%Y%m%dT%H%M%SZ")
    run.mkdir(parents=True)
    postgres_url = backends.postgres_url()  # before the embedded default's set-up drops it
    rng = random.Random(args.seed)
    bench = None
    if args.only_idle or backends.SQLITE in chosen:
        os.environ.update(server_env(run / "server"))
        os.environ.pop("DATABASE_URL", None)
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ledgerdrop.config.settings")
        import django

        django.setup()
        bench = Bench(run, rng)
    if args.only_idle:
        assert bench is not None
        idle_ = bench.idle_long_polls(args.idle)
        (run / "results.json").write_text(json.dumps({"idle": idle_}, indent=2) + "\n")
        print(json.dumps(idle_, indent=2))
        return 0
    documents = make_documents(args.files, rng)
    results: dict[str, Any] = {
        "started": f"{started:%Y-%m-%d %H:%M} UTC",
        "machine": machine(),
        "transfers": {},
    }
    print(f"{run}: {len(documents):,} documents", file=sys.stderr)
    for backend in chosen:
        if backend == backends.SQLITE:
            assert bench is not None
            transfer = bench.transfer(documents)
        else:
            folder = run / backend
            subprocess.run(
                [sys.executable, __file__, "--scaled-out", "--out", str(folder),
                 "--files", str(args.files), "--seed", str(args.seed)],
                env={**os.environ, "DATABASE_URL": postgres_url}, check=True,
            )  # fmt: skip
            transfer = json.loads((folder / "transfer.json").read_text())
        results["transfers"][backend] = transfer
        print(f"transfer on {backend}: {transfer}", file=sys.stderr)
    if bench is not None:
        results["latency"] = bench.latency(args.sends)
        print(f"latency: {results['latency']}", file=sys.stderr)
    results["rclone"] = rclone(run, documents, args.rclone_transfers)
    print(f"rclone: {results['rclone']}", file=sys.stderr)
    results["disk"] = disk(run, documents)
    print(f"disk: {results['disk']}", file=sys.stderr)
    if bench is not None:
        results["idle"] = bench.idle_long_polls(args.idle)
    (run / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    markdown = table(results)
    (run / "results.md").write_text(markdown)
    print(markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
