"""The load benchmark (`make bench`): one node (`ledgerdrop serve`) under 200 concurrent API
clients issuing invoices and uploading purchase documents while 1,000 downloaders long-poll,
on SQLite and on PostgreSQL.

Per database, one server process and, as the peer, a bare Django view on that same server
(`/healthz`: the whole middleware stack and one `SELECT 1`) under the same 200 clients and the
same 1,000 long-polls. Reported: requests/s, p50, p99, busy answers (503, retried by the
clients after Retry-After) and errors (anything else that is not 2xx); every document asked
for is checked to exist exactly once.

    scripts/with-postgres.sh uv run python bench/load.py [--clients 200] [--devices 1000]

PostgreSQL: the server of DATABASE_URL, in a database of its own (`<name>_loadbench`, made
afresh). Each run writes into a new folder under bench/results/; the table is printed too.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(1, str(BENCH.parent))  # the test builders (tests/builders.py) seed the data

import delivery  # noqa: E402
import idle  # noqa: E402
import loadgen  # noqa: E402
import peers  # noqa: E402

PEPPOL_MATERIAL = Path(
    os.environ.get("LEDGERDROP_PEPPOL_MATERIAL", BENCH.parent.parent / "shared/peppol")
)
PEPPOL_RULES = PEPPOL_MATERIAL / "bis-billing-3.0.19/sch/PEPPOL-EN16931-UBL.sch"
COMPANIES = 50


def fresh_postgres_database(url: str, suffix: str = "_loadbench") -> str:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/") + suffix
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        db.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(parts._replace(path=f"/{name}"))


def seed(clients: int, devices: int) -> tuple[list[loadgen.ApiClient], list[str], list[bytes]]:
    """Companies ready to invoice, API tokens for the clients (spread over the companies), one
    firm's downloaders, and purchase documents to upload (half with a PDF inside)."""
    from django.core.management import call_command

    from ledgerdrop.accounts import services as accounts
    from ledgerdrop.delivery.models import Device, hash_secret
    from tests import builders

    call_command("migrate", verbosity=0)
    companies = []
    for n in range(min(COMPANIES, clients)):
        owner = builders.user(f"owner{n}@bench.example.be")
        companies.append((owner, builders.invoicing_company(f"Société {n}", owner=owner)))
    api_clients = [
        loadgen.ApiClient(accounts.issue_token(owner, "bench")[1], company.pk)
        for owner, company in (companies[i % len(companies)] for i in range(clients))
    ]
    firm = builders.firm("Fiduciaire Bench")
    tokens = [f"ldd_bench_{n:05d}_{os.urandom(8).hex()}" for n in range(devices)]
    Device.objects.bulk_create(
        [
            Device(firm=firm, name=f"PC {n}", root_folder="c:\\bob-demat",
                   token_hash=hash_secret(token))
            for n, token in enumerate(tokens)
        ],
        batch_size=1000,
    )  # fmt: skip
    buyer = companies[0][1]
    purchases = [
        builders.received_ubl(buyer, number=f"ACH-{n}", with_pdf=n % 2 == 0) for n in range(8)
    ]
    return api_clients, tokens, purchases


def documents_made() -> int:
    from ledgerdrop.documents.models import Document

    return Document.objects.count()


async def measure(
    url: str, clients: list[loadgen.ApiClient], tokens: list[str], purchases: list[bytes],
    per_client: int, bare_per_client: int,
) -> dict[str, Any]:  # fmt: skip
    polls = loadgen.LongPolls(url, tokens)
    await polls.start()
    await asyncio.sleep(5)  # every downloader is held by now
    # Warm-up: the first document of a process compiles the validation rules.
    await loadgen.run_clients(url, clients[:1], 2, loadgen.mixed(purchases))
    bare = await loadgen.run_clients(url, clients, bare_per_client, loadgen.bare_view)
    work = await loadgen.run_clients(url, clients, per_client, loadgen.mixed(purchases))
    return {"bare": bare, "work": work, "long_polls": await polls.stop()}


def one(database_url: str | None, run: Path, args: argparse.Namespace) -> dict[str, Any]:
    """One database: seed it, start `ledgerdrop serve`, measure; in this process."""
    data_dir = run / "server"
    data_dir.mkdir(parents=True)
    env = delivery.server_env(data_dir)
    if database_url:
        env["DATABASE_URL"] = database_url
    if PEPPOL_RULES.exists():
        env["LEDGERDROP_PEPPOL_RULES"] = str(PEPPOL_RULES)
    os.environ.clear()
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ledgerdrop.config.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    clients, tokens, purchases = seed(args.clients, args.devices)
    before = documents_made()
    idle.raise_file_limit(4 * (args.clients + args.devices) + 1000)
    port = peers.free_port()
    server = delivery.start_server(data_dir, port, run / "server.log", **env)
    try:
        cpu = peers.cpu_seconds(server.pid)
        started = time.perf_counter()
        results = asyncio.run(
            measure(f"http://127.0.0.1:{port}", clients, tokens, purchases,
                    args.per_client, args.bare_per_client)
        )  # fmt: skip
        wall = time.perf_counter() - started
        server_cpu = peers.cpu_seconds(server.pid) - cpu
        rss = peers.rss_bytes(server.pid)
    finally:
        delivery.stop(server)
    work, bare = results["work"], results["bare"]
    made = documents_made() - before - 2  # the warm-up's two
    asked = work.requests
    log = (run / "server.log").read_text(errors="replace")
    max_connections = None
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW max_connections")
            max_connections = int(cursor.fetchone()[0])
    return {
        "database": connection.vendor,
        "postgres_max_connections": max_connections,
        "pool_size": settings.LEDGERDROP_DB_POOL_SIZE if database_url else None,
        "request_threads": settings.LEDGERDROP_REQUEST_THREADS,
        "peppol_rules": PEPPOL_RULES.exists(),
        "clients": args.clients,
        "work": work.summary(),
        "bare": bare.summary(),
        "long_polls": results["long_polls"],
        "documents_asked": asked,
        "documents_made": made,
        "server_cpu_seconds": server_cpu,
        "server_cpu_share": server_cpu / wall,
        "server_rss_mib": rss / 2**20,
        "server_log_errors": log.count("Traceback"),
    }


def table(results: dict[str, Any]) -> str:
    m = results["machine"]
    lines = [
        f"Load benchmark, {results['started']} — {m['cores']} cores ({m['cpu']}), "
        f"{m['memory_gib']} GiB, Linux {m['kernel']}, Python {m['python']}, load average "
        f"{m['load_average_at_start']:.1f} at start",
        "",
        "| database | workload | requests | requests/s | p50 | p99 | p99/p50 | busy (503, "
        "retried) | errors |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for run in results["runs"]:
        name = run["database"]
        if run["postgres_max_connections"]:
            name += (f" (pool {run['pool_size']}, max_connections "
                     f"{run['postgres_max_connections']})")  # fmt: skip
        for label, key in (("issue + upload", "work"), ("bare Django view", "bare")):
            s = run[key]
            lines.append(
                f"| {name} | {label}, {run['clients']} clients | {s['requests']:,} "
                f"| {s['requests_per_second']:,.1f} | {s['p50_ms']:,.0f} ms "
                f"| {s['p99_ms']:,.0f} ms | {s['p99_ms'] / s['p50_ms']:.1f}× "
                f"| {s['busy_answers']} | {s['errors']} |"
            )
    lines.append("")
    for run in results["runs"]:
        polls = run["long_polls"]
        lines.append(
            f"- {run['database']}: {polls['devices']:,} downloaders long-polling throughout "
            f"(answers {polls['answers']}, failures {polls['failures']}); documents asked "
            f"{run['documents_asked']:,}, made {run['documents_made']:,}; "
            f"{run['request_threads']} request threads; server CPU "
            f"{run['server_cpu_seconds']:.0f} s ({run['server_cpu_share']:.2f} cores), "
            f"RSS {run['server_rss_mib']:.0f} MiB; tracebacks in the server log: "
            f"{run['server_log_errors']}; PEPPOL rules {'on' if run['peppol_rules'] else 'off'}"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--per-client", type=int, default=5, help="documents per client")
    parser.add_argument("--bare-per-client", type=int, default=25)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--out", type=Path, default=BENCH / "results")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # internal: sqlite or a postgres URL
    args = parser.parse_args(argv)

    if args.one:
        run = Path(args.out)
        result = one(None if args.one == "sqlite" else args.one, run, args)
        (run / "result.json").write_text(loadgen.dumps(result) + "\n")
        return 0

    started = dt.datetime.now(dt.UTC)
    out = args.out / f"load-{started:%Y%m%dT%H%M%SZ}"
    results: dict[str, Any] = {
        "started": f"{started:%Y-%m-%d %H:%M} UTC", "machine": delivery.machine(), "runs": []
    }  # fmt: skip
    for database in args.databases.split(","):
        if database == "postgresql":
            if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
                raise SystemExit("PostgreSQL: run under scripts/with-postgres.sh (DATABASE_URL)")
            target = fresh_postgres_database(os.environ["DATABASE_URL"])
        else:
            target = "sqlite"
        run = out / database
        subprocess.run(
            [sys.executable, __file__, "--one", target, "--out", str(run),
             "--clients", str(args.clients), "--devices", str(args.devices),
             "--per-client", str(args.per_client), "--bare-per-client",
             str(args.bare_per_client)],
            check=True,
        )  # fmt: skip
        result = json.loads((run / "result.json").read_text())
        results["runs"].append(result)
        print(f"{database}: {result['work']}", file=sys.stderr)
    (out / "results.json").write_text(loadgen.dumps(results) + "\n")
    markdown = table(results)
    (out / "results.md").write_text(markdown)
    print(markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
