"""Task pick-up latency on PostgreSQL: from a task queued to a worker starting it, with one idle
worker process, tasks queued one at a time at random moments.

Two workers on the same database: `ledgerdrop worker` (woken by LISTEN/NOTIFY) and, as the
peer, django-tasks-db's own `db_worker` looking at the queue every half second (what
`ledgerdrop worker` did before). The task is a real one that does next to nothing (an
invitation for nobody: one query). Reported: p50, p99 and the worst pick-up latency, and the
share picked up within a second. The latency runs from the queuing process's clock before its
commit to the worker's before its claim commits: a busy machine's slow commits count in it.

    scripts/with-postgres.sh uv run python bench/tasks.py [--tasks 200]

The database is one of its own (`<name>_taskbench`, made afresh) on the server of DATABASE_URL.
Each run writes into a new folder under bench/results/; the table is printed too.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import delivery  # noqa: E402

if TYPE_CHECKING:
    from django.db.models import QuerySet

WORKERS = {
    "ledgerdrop worker (LISTEN/NOTIFY)": ["worker"],
    "db_worker polling every 0.5 s": [
        "manage", "db_worker", "--queue-name", "*", "--interval", "0.5", "--no-startup-delay",
        "--no-reload",
    ],
}  # fmt: skip


def fresh_postgres_database(url: str) -> str:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/") + "_taskbench"
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        db.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(parts._replace(path=f"/{name}"))


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def wait_for_all(queued: QuerySet[Any], log: Path) -> None:
    from django_tasks.base import TaskResultStatus

    deadline = time.monotonic() + 60
    while queued.exclude(status=TaskResultStatus.SUCCESSFUL).exists():
        if time.monotonic() > deadline:
            raise SystemExit(f"tasks left unrun; see {log}")
        time.sleep(0.2)


def measure(command: list[str], count: int, log: Path) -> dict[str, float]:
    """Start the worker, queue `count` tasks 20–200 ms apart, wait for all of them to have
    run; the latencies are read from the queue's own columns (enqueued_at, started_at)."""
    from django_tasks_db.models import DBTaskResult

    from ledgerdrop.accounts import tasks

    DBTaskResult.objects.all().delete()
    with log.open("wb") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "ledgerdrop.config.cli", *command],
            env={**os.environ, "LEDGERDROP_LOG_LEVEL": "WARNING"},
            stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        # Started (slow on a busy machine) and idle: the first task has run.
        warm_up = tasks.send_invitation.enqueue(0, "fr").id
        wait_for_all(DBTaskResult.objects.filter(pk=warm_up), log)
        time.sleep(1)
        ids = []
        for _ in range(count):
            ids.append(tasks.send_invitation.enqueue(0, "fr").id)
            time.sleep(random.uniform(0.02, 0.2))
        ours = DBTaskResult.objects.filter(pk__in=ids)
        wait_for_all(ours, log)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    latencies = [
        (started - enqueued).total_seconds() * 1000
        for enqueued, started in ours.values_list("enqueued_at", "started_at")
    ]
    return {
        "tasks": len(latencies),
        "p50_ms": round(statistics.median(latencies), 1),
        "p99_ms": round(percentile(latencies, 0.99), 1),
        "max_ms": round(max(latencies), 1),
        # The bar: a task picked up within a second.
        "within_1s_percent": round(100 * sum(ms <= 1000 for ms in latencies) / len(latencies), 1),
    }


def table(results: dict[str, Any]) -> str:
    m = results["machine"]
    lines = [
        f"Task pick-up latency, {results['started']} — {m['cores']} cores ({m['cpu']}), "
        f"PostgreSQL, load average {m['load_average_at_start']:.1f} at start",
        f"{'worker':<36} {'tasks':>6} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'<=1 s':>7}",
    ]
    for name, run in results["runs"].items():
        lines.append(
            f"{name:<36} {run['tasks']:>6} {run['p50_ms']:>8} {run['p99_ms']:>8} "
            f"{run['max_ms']:>8} {run['within_1s_percent']:>6}%"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=200)
    parser.add_argument("--out", type=Path, default=BENCH / "results")
    args = parser.parse_args(argv)
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("PostgreSQL: run under scripts/with-postgres.sh (DATABASE_URL)")
    os.environ["DATABASE_URL"] = fresh_postgres_database(os.environ["DATABASE_URL"])
    os.environ["LEDGERDROP_DATA_DIR"] = tempfile.mkdtemp(prefix="taskbench-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ledgerdrop.config.settings")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)

    started = dt.datetime.now(dt.UTC)
    out = args.out / f"tasks-{started:%Y%m%dT%H%M%SZ}"
    out.mkdir(parents=True)
    results: dict[str, Any] = {
        "started": f"{started:%Y-%m-%d %H:%M} UTC", "machine": delivery.machine(), "runs": {}
    }  # fmt: skip
    for number, (name, command) in enumerate(WORKERS.items()):
        results["runs"][name] = measure(command, args.tasks, out / f"worker-{number}.log")
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
