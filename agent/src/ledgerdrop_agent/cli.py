"""`ledgerdrop-agent pair | run | status | unpair | service install | service uninstall`."""

from __future__ import annotations

import argparse
import logging
import signal
import subprocess
import sys
import threading
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from rich.console import Console
from rich.logging import RichHandler
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn

from ledgerdrop_agent import __version__, service, task
from ledgerdrop_agent.client import (
    DeviceClient,
    ProblemError,
    ServerUnavailable,
    Unauthorized,
    normalise_server,
)
from ledgerdrop_agent.config import (
    JOURNAL_FILE,
    LOG_FILE,
    Credential,
    CredentialError,
    agent_home,
    delete_credential,
    ensure_home,
    load_credential,
    save_credential,
)
from ledgerdrop_agent.journal import Journal, now
from ledgerdrop_agent.logs import LOGGER, EventFormatter, file_handler
from ledgerdrop_agent.pairing import PairingFailed, describe_device, pair_with_code, pair_with_key
from ledgerdrop_agent.runner import Outcome, Runner, RunOptions
from ledgerdrop_protocol import PairingStarted

EXIT_OK = 0
EXIT_INCOMPLETE = 1  # something could not be placed, or pairing was refused
EXIT_USAGE = 2
EXIT_UNPAIRED = 3  # no credential, or the server revoked it
EXIT_UNREACHABLE = 4
EXIT_INTERRUPTED = 130

PAIR_AGAIN = "pair again: ledgerdrop-agent pair --server URL"


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    home = agent_home()
    try:
        code: int = args.handler(args, home)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except CredentialError as exc:
        _err(str(exc))
        return EXIT_UNPAIRED
    return code


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ledgerdrop-agent",
        description="Places the invoices sent from Ledgerdrop in the folders your accounting "
        "software imports from.",
    )
    parser.add_argument("--version", action="version", version=f"ledgerdrop-agent {__version__}")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    pair = commands.add_parser("pair", help="pair this machine with a Ledgerdrop server")
    pair.add_argument("--server", required=True, help="e.g. https://ledgerdrop.example.com")
    pair.add_argument("--name", help="how the device is listed (default: the host name)")
    pair.add_argument("--enrolment-key", help="a one-time key from the web app, for servers")
    pair.set_defaults(handler=_pair)

    run = commands.add_parser("run", help="place delivered documents (runs until stopped)")
    run.add_argument("--once", action="store_true", help="place what is pending, then exit")
    run.add_argument("--root", type=Path, help="main folder (default: the one set on the server)")
    run.add_argument(
        "--log-file",
        nargs="?",
        const="",
        metavar="PATH",
        help=f"log to a file instead of the terminal (default file: {LOG_FILE} in the agent home)",
    )
    run.set_defaults(handler=_run)

    status = commands.add_parser("status", help="pairing, main folder, pending and failed counts")
    status.set_defaults(handler=_status)

    unpair = commands.add_parser("unpair", help="forget this machine's credential")
    unpair.set_defaults(handler=_unpair)

    svc = commands.add_parser(
        "service", help="run the agent unattended (Windows: a scheduled task; Linux: systemd)"
    )
    svc_commands = svc.add_subparsers(required=True, metavar="ACTION")
    install = svc_commands.add_parser(
        "install", help="register and start a scheduled task (Windows) or a systemd unit"
    )
    install.add_argument("--user", action="store_true", help="a user unit instead of a system one")
    install.add_argument("--root", type=Path, help="main folder passed to `run --root`")
    install.add_argument(
        "--no-enable", action="store_true", help="only write the unit or task file"
    )
    install.add_argument(
        "--run-as",
        metavar="USER",
        help="Windows: run the task as this user (e.g. one that can write a network share; "
        "asks for the password) instead of SYSTEM",
    )
    install.set_defaults(handler=_service_install)
    uninstall = svc_commands.add_parser("uninstall", help="stop and remove the scheduled task")
    uninstall.set_defaults(handler=_service_uninstall)
    return parser


# -- pair ---------------------------------------------------------------------------------------


def _pair(args: argparse.Namespace, home: Path) -> int:
    try:
        server = normalise_server(args.server)
    except ValueError as exc:
        _err(str(exc))
        return EXIT_USAGE
    parts = urlsplit(server)
    if parts.scheme == "http" and parts.hostname not in {"localhost", "127.0.0.1", "::1"}:
        _err("warning: plain http: the device credential will cross the network unencrypted")
    device = describe_device(args.name)
    try:
        with DeviceClient(server) as client:
            if args.enrolment_key:
                granted = pair_with_key(client, device, args.enrolment_key)
            else:
                granted = pair_with_code(client, device, on_started=_show_code)
    except PairingFailed as exc:
        _err(f"Pairing failed: {exc}. Run `ledgerdrop-agent pair --server {server}` to try again.")
        return EXIT_INCOMPLETE
    except ProblemError as exc:
        _err(f"The server refused the pairing: {exc}")
        return EXIT_INCOMPLETE
    except ServerUnavailable as exc:
        _err(f"Cannot reach {server}: {exc}")
        return EXIT_UNREACHABLE
    path = save_credential(home, Credential(server, granted.device_id, granted.token))
    print(f"Paired: this machine is device {granted.device_id} on {server}.")
    print(f"Credential saved in {path}.")
    print("Start placing documents with `ledgerdrop-agent run`, or install it as a service with")
    print("`ledgerdrop-agent service install --user`.")
    return EXIT_OK


def _show_code(started: PairingStarted) -> None:
    minutes = max(1, started.expires_in // 60)
    print("To pair this machine, open")
    print(f"    {started.verification_uri}")
    print("and enter the code")
    print(f"    {started.user_code}")
    print(f"or open directly: {started.verification_uri_complete}")
    print(f"The code is valid for {minutes} min. Waiting for confirmation... (Ctrl-C to stop)")
    sys.stdout.flush()


# -- run ----------------------------------------------------------------------------------------


def _run(args: argparse.Namespace, home: Path) -> int:
    credential = load_credential(home)
    if credential is None:
        _err(f"This machine is not paired: {PAIR_AGAIN}")
        return EXIT_UNPAIRED
    ensure_home(home)
    console = Console(stderr=True)
    interactive = args.log_file is None and console.is_terminal
    _configure_logging(home, args.log_file, console if interactive else None)
    # systemd stops a service with SIGTERM: unwind (placements in flight finish) and exit 0,
    # so that a requested stop is not recorded as a failure of the unit.
    signal.signal(signal.SIGTERM, _exit_cleanly)
    root = args.root.expanduser().resolve() if args.root else None
    journal = Journal(home / JOURNAL_FILE)
    client = DeviceClient(credential.server, credential.token)
    observer = _ProgressObserver(console) if interactive else None
    runner = Runner(client, journal, RunOptions(root=root), observer=observer)
    if interactive:
        console.print(
            f"Device {credential.device_id} on {credential.server}: waiting for documents. "
            "Ctrl-C to stop."
        )
    try:
        if args.once:
            if runner.run_once():
                return EXIT_OK
            _err("Some documents could not be placed: see `ledgerdrop-agent status`.")
            return EXIT_INCOMPLETE
        runner.run_forever(threading.Event())
        return EXIT_OK
    except Unauthorized as exc:
        message = f"The server no longer accepts this device's credential ({exc}): {PAIR_AGAIN}"
        journal.note_error(message)
        logging.getLogger(LOGGER).error(message)
        _err(message)
        return EXIT_UNPAIRED
    except ServerUnavailable as exc:
        journal.note_error(str(exc))
        _err(f"Cannot reach the server: {exc}. Placed files are acknowledged on the next run.")
        return EXIT_UNREACHABLE
    except ProblemError as exc:
        journal.note_error(str(exc))
        _err(f"The server refused the request: {exc}")
        return EXIT_INCOMPLETE
    finally:
        runner.close()
        client.close()
        journal.close()


def _configure_logging(home: Path, log_file: str | None, console: Console | None) -> None:
    logger = logging.getLogger(LOGGER)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    for previous in list(logger.handlers):
        logger.removeHandler(previous)
        previous.close()
    if console is not None:
        handler: logging.Handler = RichHandler(console=console, show_path=False)
        handler.setFormatter(EventFormatter())
    else:
        path = Path(log_file).expanduser() if log_file else home / LOG_FILE
        handler = file_handler(path)
    logger.addHandler(handler)


class _ProgressObserver:
    def __init__(self, console: Console) -> None:
        self._lock = threading.Lock()
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("placing documents"),
            BarColumn(),
            MofNCompleteColumn(),
            console=console,
            transient=True,
        )
        self._task = self._progress.add_task("placing", total=0, start=False)

    def batch_started(self, count: int) -> None:
        with self._lock:
            self._progress.reset(self._task, total=count, start=True)
            self._progress.start()

    def delivery_done(self, outcome: Outcome) -> None:
        with self._lock:
            self._progress.advance(self._task)
            if self._progress.finished:
                self._progress.stop()


# -- status, unpair, service --------------------------------------------------------------------


def _status(args: argparse.Namespace, home: Path) -> int:
    credential = load_credential(home)
    if credential is None:
        print("Paired:        no (ledgerdrop-agent pair --server URL)")
    else:
        print("Paired:        yes")
        print(f"Server:        {credential.server}")
        print(f"Device:        {credential.device_id}")
    print(f"Agent home:    {home}")
    if sys.platform == "win32":
        print(f"Service:       {_task_state()}")
    journal_path = home / JOURNAL_FILE
    if not journal_path.exists():
        print("Last contact:  never")
        return EXIT_OK if credential else EXIT_UNPAIRED
    journal = Journal(journal_path)
    try:
        summary = journal.summary()
    finally:
        journal.close()
    backlog = "unknown" if summary.backlog is None else str(summary.backlog)
    print(f"Main folder:   {summary.main_folder or summary.root_folder or 'not known yet'}")
    print(f"Last contact:  {_when(summary.last_contact)}")
    print(
        f"Pending:       {summary.placed_not_acked} placed, not yet acknowledged; "
        f"{backlog} offered at last contact"
    )
    print(f"Placed:        {summary.acked}")
    print(f"Failed:        {summary.failed}")
    if summary.last_error:
        print(f"Last error:    {summary.last_error} ({_when(summary.last_error_at)})")
    return EXIT_OK if credential else EXIT_UNPAIRED


def _unpair(args: argparse.Namespace, home: Path) -> int:
    if delete_credential(home):
        print("Credential removed. Delete the device in the web app too, if it is still listed.")
    else:
        print("This machine was not paired.")
    return EXIT_OK


def _service_install(args: argparse.Namespace, home: Path) -> int:
    root = args.root.expanduser().resolve() if args.root else None
    if sys.platform == "win32":
        return _task_install(home, root, args.run_as, register=not args.no_enable)
    try:
        installed = service.install(
            home=home, user_unit=args.user, root=root, enable=not args.no_enable
        )
    except PermissionError as exc:
        _err(f"Cannot write the unit ({exc}): run as root, or use --user.")
        return EXIT_USAGE
    except subprocess.CalledProcessError as exc:
        _err(f"The unit was written but `{' '.join(exc.cmd)}` failed (exit {exc.returncode}).")
        return EXIT_INCOMPLETE
    print(f"Wrote {installed.unit_path}")
    if installed.enabled:
        print("Enabled and started: `systemctl status ledgerdrop-agent` shows it.")
    else:
        scope = "--user " if args.user else ""
        print(
            f"Enable it with: systemctl {scope}daemon-reload && "
            f"systemctl {scope}enable --now {service.UNIT_NAME}"
        )
    if args.user:
        print("For a user unit to run without a login session: loginctl enable-linger")
    return EXIT_OK


def _task_install(home: Path, root: Path | None, run_as: str | None, *, register: bool) -> int:
    try:
        path = task.install(home=home, root=root, run_as=run_as, register=register)
    except (task.TaskError, OSError) as exc:
        _err(f"The scheduled task could not be set up: {exc}. Run as an administrator.")
        return EXIT_INCOMPLETE
    print(f"Wrote {path}")
    if register:
        print(f"Registered and started the scheduled task {task.TASK_NAME!r}: it starts at boot.")
    else:
        print("Register it with: " + subprocess.list2cmdline(task.create_command(path, run_as)))
    return EXIT_OK


def _service_uninstall(args: argparse.Namespace, home: Path) -> int:
    if sys.platform != "win32":
        _err(f"Remove the systemd unit: systemctl disable --now {service.UNIT_NAME}")
        return EXIT_USAGE
    try:
        removed = task.uninstall(home=home)
    except task.TaskError as exc:
        _err(f"{exc}. Run as an administrator.")
        return EXIT_INCOMPLETE
    print("Scheduled task removed." if removed else "No scheduled task was registered.")
    return EXIT_OK


def _task_state() -> str:
    try:
        state = task.state()
    except OSError as exc:  # no schtasks here
        return f"unknown ({exc})"
    if not state.registered:
        return "not installed (ledgerdrop-agent service install)"
    return f"scheduled task registered, {state.status or 'state unknown'}"


def _when(moment: datetime | None) -> str:
    if moment is None:
        return "never"
    minutes = int((now() - moment).total_seconds() // 60)
    ago = "just now" if minutes < 1 else f"{minutes} min ago"
    return f"{moment.astimezone():%Y-%m-%d %H:%M:%S} ({ago})"


def _exit_cleanly(signum: int, frame: object) -> None:
    raise SystemExit(EXIT_OK)


def _err(message: str) -> None:
    print(message, file=sys.stderr)
