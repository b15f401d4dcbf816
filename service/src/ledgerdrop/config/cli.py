"""`ledgerdrop …`: the service's command line (API.md)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from ledgerdrop.delivery import cli as delivery_cli
from ledgerdrop.documents import cli as documents_cli


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ledgerdrop.config.settings")
    import django

    django.setup()


def _migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def serve(host: str, port: int, *, migrate: bool, embedded_worker: bool) -> None:
    """The web app and both APIs under uvicorn; on the embedded default also the task worker
    and the nightly scheduler, as threads of this one process."""
    import uvicorn
    from django.conf import settings

    _setup_django()
    if migrate:
        _migrate()
    stops = []
    if embedded_worker:
        from ledgerdrop.core import periodic, tasks

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
    """A task worker process (scale-out), with the scheduler: claims make it safe to run many."""
    _setup_django()
    from ledgerdrop.core import periodic, tasks

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
    print(f"{len(report.queued)} document(s) queued for automatic transfer.")
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
    serve_cmd.add_argument("--no-migrate", action="store_true", help="do not apply migrations")
    serve_cmd.add_argument(
        "--no-worker",
        action="store_true",
        help="no task worker or scheduler in this process (run `ledgerdrop worker` instead)",
    )

    demo_cmd = commands.add_parser("demo", help="demo data, the server and a local downloader")
    demo_cmd.add_argument("--host", default="127.0.0.1")
    demo_cmd.add_argument("--port", type=int, default=8000)

    commands.add_parser("worker", help="run a task worker process")
    autosend_cmd = commands.add_parser(
        "autosend", help="run the nightly automatic transfer once, now"
    )
    autosend_cmd.add_argument("--firm", type=int, help="only this firm (id)")
    autosend_cmd.add_argument("--date", help="as of this day, YYYY-MM-DD (default: today)")
    documents_cli.add_commands(commands)
    delivery_cli.add_commands(commands)
    manage_cmd = commands.add_parser("manage", help="Django's management commands")
    manage_cmd.add_argument("args", nargs=argparse.REMAINDER)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
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
    elif args.command == "autosend":
        sys.exit(autosend(args.firm, args.date))
    elif args.command in documents_cli.COMMANDS:
        sys.exit(documents_cli.run(args))
    elif args.command in delivery_cli.COMMANDS:
        sys.exit(delivery_cli.run(args))
    elif args.command == "manage":
        manage(args.args)


if __name__ == "__main__":
    main()
