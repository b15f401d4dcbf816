"""`ledgerdrop …`: the service's command line (API.md)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from ledgerdrop.config.backup import commands as backup_cli
from ledgerdrop.delivery import cli as delivery_cli
from ledgerdrop.documents import cli as documents_cli


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ledgerdrop.config.settings")
    import django

    django.setup()


# Taken by `ledgerdrop migrate` on PostgreSQL for as long as it runs: two deploys started at
# once apply the migrations one after the other, not both at the same time.
_MIGRATE_LOCK = 0x4C44_4D49  # "LDMI"


class RefusedToStart(Exception):
    """The process must not start; the message says why and what to run."""


def _on_postgresql() -> bool:
    from django.conf import settings

    return bool(settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql")


def migrate(verbosity: int = 1) -> None:
    """`ledgerdrop migrate`: bring the database's schema up to this release's."""
    from django.core.management import call_command
    from django.db import connection

    if not _on_postgresql():
        call_command("migrate", interactive=False, verbosity=verbosity)
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [_MIGRATE_LOCK])
        try:
            call_command("migrate", interactive=False, verbosity=verbosity)
        finally:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [_MIGRATE_LOCK])


def unapplied_migrations() -> list[str]:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, _ in plan]


def _schema_ready(*, migrate_embedded: bool) -> None:
    """On the embedded default (SQLite), the one process that owns the database file brings its
    schema up to date itself: a small install needs no extra step. On PostgreSQL, where several
    nodes share the database, migrating is a deploy step of its own (`ledgerdrop migrate`) and a
    node refuses to start on a schema older than its code."""
    if not _on_postgresql():
        if migrate_embedded:
            migrate(verbosity=0)
        return
    if missing := unapplied_migrations():
        raise RefusedToStart(
            f"The database lacks {len(missing)} migration(s) of this release "
            f"({', '.join(missing[:3])}{', …' if len(missing) > 3 else ''}): run "
            "`ledgerdrop migrate` once, then start the nodes."
        )


def serve(host: str, port: int, *, migrate: bool, embedded_worker: bool) -> None:
    """The web app and both APIs under uvicorn; on the embedded default also the task worker
    and the nightly scheduler, as threads of this one process."""
    import uvicorn
    from django.conf import settings

    _setup_django()
    _schema_ready(migrate_embedded=migrate)
    stops = []
    if embedded_worker:
        from ledgerdrop.config.backup import nightly
        from ledgerdrop.core import periodic, tasks

        nightly.register_periodic_job()
        stops = [tasks.start_worker_thread(), periodic.start_scheduler_thread()]
    try:
        uvicorn.run(
            "ledgerdrop.config.asgi:application",
            host=host,
            port=port,
            lifespan="off",
            # uvicorn would take any loopback client's X-Forwarded-For as its address; whether
            # that header is to be believed is LEDGERDROP_TRUSTED_PROXIES's to say (client_ip).
            proxy_headers=settings.LEDGERDROP_TRUSTED_PROXIES > 0,
            timeout_graceful_shutdown=5,
            log_level=os.environ.get("LEDGERDROP_LOG_LEVEL", "info").lower(),
        )
    finally:
        for stop in stops:
            stop()


def worker() -> None:
    """A task worker process (scale-out), with the scheduler: claims make it safe to run many.
    SIGTERM lets it finish the task at hand; killed outright, its task is run again by another
    worker once its lease has run out (core/tasks.py)."""
    _setup_django()
    _schema_ready(migrate_embedded=False)
    from ledgerdrop.config.backup import nightly
    from ledgerdrop.core import periodic, tasks

    nightly.register_periodic_job()
    stop_scheduler = periodic.start_scheduler_thread()
    try:
        tasks.run_worker()
    except KeyboardInterrupt:
        pass
    finally:
        stop_scheduler()


def autosend(firm_id: int | None, on: str | None) -> int:
    """The nightly automatic transfer, once, now; prints what it queued and what it skipped."""
    _setup_django()
    import datetime as dt

    from ledgerdrop.accounts.models import Organisation
    from ledgerdrop.connectors.bob_demat import services

    firm = None
    if firm_id is not None:
        firm = Organisation.objects.filter(pk=firm_id, kind=Organisation.Kind.FIRM).first()
        if firm is None:
            print(f"No firm with id {firm_id}.", file=sys.stderr)
            return 2
    try:
        day = dt.date.fromisoformat(on) if on else None
    except ValueError:
        print(f"--date wants YYYY-MM-DD, not {on!r}.", file=sys.stderr)
        return 2
    report = services.run_autosend(firm, on=day)
    print(f"{report.queued} document(s) queued for automatic transfer.")
    for connection_id, reason in sorted(report.skipped_connections.items()):
        print(f"connection {connection_id} skipped: {reason}")
    return 0


def manage(argv: Sequence[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ledgerdrop.config.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["ledgerdrop manage", *argv])


def _embedded_worker_default() -> bool:
    return os.environ.get("LEDGERDROP_EMBEDDED_WORKER", "1").lower() not in {"0", "false", "no"}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ledgerdrop", description="Ledgerdrop: invoices into your accountant's folders."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve_cmd = commands.add_parser("serve", help="run the web app and APIs")
    serve_cmd.add_argument("--host", default="127.0.0.1")
    serve_cmd.add_argument("--port", type=int, default=8000)
    serve_cmd.add_argument(
        "--no-migrate",
        action="store_true",
        help="on SQLite, do not apply migrations (on PostgreSQL, serve never does)",
    )
    serve_cmd.add_argument(
        "--no-worker",
        action="store_true",
        help="no task worker or scheduler in this process (run `ledgerdrop worker` instead)",
    )

    demo_cmd = commands.add_parser("demo", help="demo data, the server and a local downloader")
    demo_cmd.add_argument("--host", default="127.0.0.1")
    demo_cmd.add_argument("--port", type=int, default=8000)

    commands.add_parser("worker", help="run a task worker process")
    commands.add_parser("migrate", help="apply the database migrations (before starting nodes)")
    autosend_cmd = commands.add_parser(
        "autosend", help="run the nightly automatic transfer once, now"
    )
    autosend_cmd.add_argument("--firm", type=int, help="only this firm (id)")
    autosend_cmd.add_argument("--date", help="as of this day, YYYY-MM-DD (default: today)")
    documents_cli.add_commands(commands)
    delivery_cli.add_commands(commands)
    backup_cli.add_commands(commands)
    manage_cmd = commands.add_parser("manage", help="Django's management commands")
    manage_cmd.add_argument("args", nargs=argparse.REMAINDER)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    from django.core.exceptions import ImproperlyConfigured

    try:
        _run(args)
    except (ImproperlyConfigured, RefusedToStart) as refusal:
        print(f"ledgerdrop: {refusal}", file=sys.stderr)
        sys.exit(2)


def _run(args: argparse.Namespace) -> None:
    if args.command == "serve":
        serve(
            args.host,
            args.port,
            migrate=not args.no_migrate,
            embedded_worker=not args.no_worker and _embedded_worker_default(),
        )
    elif args.command == "demo":
        _setup_django()
        from ledgerdrop.config import demo

        sys.exit(demo.run(host=args.host, port=args.port))
    elif args.command == "worker":
        worker()
    elif args.command == "migrate":
        _setup_django()
        migrate()
    elif args.command == "autosend":
        sys.exit(autosend(args.firm, args.date))
    elif args.command in documents_cli.COMMANDS:
        sys.exit(documents_cli.run(args))
    elif args.command in delivery_cli.COMMANDS:
        sys.exit(delivery_cli.run(args))
    elif args.command in backup_cli.COMMANDS:
        _setup_django()
        sys.exit(backup_cli.run(args))
    elif args.command == "manage":
        manage(args.args)


if __name__ == "__main__":
    main()
