"""`ledgerdrop-agent pair | run | status | unpair | service install | service uninstall`."""

from __future__ import annotations

import argparse
import logging
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import datetime
from functools import partial
from pathlib import Path
from urllib.parse import urlsplit

from rich.console import Console

from ledgerdrop_agent import __version__, i18n, policy, service, task
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
from ledgerdrop_agent.i18n import _
from ledgerdrop_agent.journal import Journal, now
from ledgerdrop_agent.logs import LOGGER, file_handler
from ledgerdrop_agent.pairing import PairingFailed, describe_device, pair_with_code, pair_with_key
from ledgerdrop_agent.report import Reporter
from ledgerdrop_agent.runner import STOP_GRACE, Runner, RunOptions
from ledgerdrop_protocol import PairingStarted

EXIT_OK = 0
EXIT_INCOMPLETE = 1  # something could not be placed, or pairing was refused
EXIT_USAGE = 2
EXIT_UNPAIRED = 3  # no credential, or the server revoked it
EXIT_UNREACHABLE = 4
EXIT_INTERRUPTED = 130

PAIR_COMMAND = "ledgerdrop-agent pair --server URL"


def main(argv: list[str] | None = None) -> int:
    # The language first: the help texts themselves are translated.
    chosen, _rest = _language_option().parse_known_args(argv)
    i18n.use(getattr(chosen, "lang", None))
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


def _language_option() -> argparse.ArgumentParser:
    option = argparse.ArgumentParser(add_help=False)
    option.add_argument(
        "--lang",
        choices=i18n.LANGUAGES,
        default=argparse.SUPPRESS,
        help=_("the language to speak (default: the system's)"),
    )
    return option


def _parser() -> argparse.ArgumentParser:
    common = [_language_option()]
    parser = argparse.ArgumentParser(
        prog="ledgerdrop-agent",
        description=_(
            "Places the invoices sent from Ledgerdrop in the folders your accounting "
            "software imports from."
        ),
        parents=common,
    )
    parser.add_argument("--version", action="version", version=f"ledgerdrop-agent {__version__}")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    pair = commands.add_parser(
        "pair", help=_("pair this machine with a Ledgerdrop server"), parents=common
    )
    pair.add_argument("--server", required=True, help=_("e.g. https://ledgerdrop.example.com"))
    pair.add_argument("--name", help=_("how the device is listed (default: the host name)"))
    pair.add_argument("--enrolment-key", help=_("a one-time key from the web app, for servers"))
    pair.set_defaults(handler=_pair)

    run = commands.add_parser(
        "run", help=_("place delivered documents (runs until stopped)"), parents=common
    )
    run.add_argument("--once", action="store_true", help=_("place what is pending, then exit"))
    run.add_argument(
        "--root", type=Path, help=_("main folder (default: the one set on the server)")
    )
    run.add_argument(
        "--log-file",
        nargs="?",
        const="",
        metavar="PATH",
        help=_("the log file (default: {file} in the agent home)").format(file=LOG_FILE),
    )
    run.set_defaults(handler=_run)

    status = commands.add_parser(
        "status", help=_("pairing, main folder, pending and failed counts"), parents=common
    )
    status.set_defaults(handler=_status)

    unpair = commands.add_parser(
        "unpair", help=_("forget this machine's credential"), parents=common
    )
    unpair.set_defaults(handler=_unpair)

    policy.add_command(commands)

    svc = commands.add_parser(
        "service",
        help=_("run the agent unattended (Windows: a scheduled task; Linux: systemd)"),
    )
    svc_commands = svc.add_subparsers(required=True, metavar="ACTION")
    install = svc_commands.add_parser(
        "install",
        help=_("register and start a scheduled task (Windows) or a systemd unit"),
        parents=common,
    )
    install.add_argument(
        "--user", action="store_true", help=_("a user unit instead of a system one")
    )
    install.add_argument("--root", type=Path, help=_("main folder passed to `run --root`"))
    install.add_argument(
        "--no-enable", action="store_true", help=_("only write the unit or task file")
    )
    install.add_argument(
        "--run-as",
        metavar="USER",
        help=_(
            "Windows: run the task as this user (e.g. one that can write a network share; "
            "asks for the password) instead of SYSTEM"
        ),
    )
    install.set_defaults(handler=_service_install)
    uninstall = svc_commands.add_parser(
        "uninstall", help=_("stop and remove the scheduled task"), parents=common
    )
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
        _err(_("warning: plain http: the device credential will cross the network unencrypted"))
    device = describe_device(args.name)
    try:
        with DeviceClient(server) as client:
            if args.enrolment_key:
                granted = pair_with_key(client, device, args.enrolment_key)
            else:
                granted = pair_with_code(client, device, on_started=_show_code)
    except PairingFailed as exc:
        _err(
            _("Pairing failed: {reason}. Run `{command}` to try again.").format(
                reason=exc, command=f"ledgerdrop-agent pair --server {server}"
            )
        )
        return EXIT_INCOMPLETE
    except ProblemError as exc:
        _err(_("The server refused the pairing: {detail}").format(detail=exc))
        return EXIT_INCOMPLETE
    except ServerUnavailable as exc:
        _err(_("Cannot reach {server}: {detail}").format(server=server, detail=exc))
        return EXIT_UNREACHABLE
    path = save_credential(home, Credential(server, granted.device_id, granted.token))
    print(
        _("Paired: this machine is device {device} on {server}.").format(
            device=granted.device_id, server=server
        )
    )
    print(_("Credential saved in {path}.").format(path=path))
    print(
        _(
            "Start placing documents with `ledgerdrop-agent run`, or install it as a service "
            "with `ledgerdrop-agent service install --user`."
        )
    )
    return EXIT_OK


def _show_code(started: PairingStarted) -> None:
    minutes = max(1, started.expires_in // 60)
    print(_("To pair this machine, open"))
    print(f"    {started.verification_uri}")
    print(_("and enter the code"))
    print(f"    {started.user_code}")
    print(_("or open directly: {link}").format(link=started.verification_uri_complete))
    print(
        _("The code is valid for {minutes} min. Waiting for confirmation… (Ctrl-C to stop)").format(
            minutes=minutes
        )
    )
    sys.stdout.flush()


# -- run ----------------------------------------------------------------------------------------


def _run(args: argparse.Namespace, home: Path) -> int:
    credential = load_credential(home)
    if credential is None:
        _err(_("This machine is not paired: {command}").format(command=PAIR_COMMAND))
        return EXIT_UNPAIRED
    ensure_home(home)
    _configure_logging(home, args.log_file)
    # systemd stops a service with SIGTERM: unwind (placements in flight finish) and exit 0,
    # so that a requested stop is not recorded as a failure of the unit.
    signal.signal(signal.SIGTERM, _exit_cleanly)
    root = args.root.expanduser().resolve() if args.root else None
    journal = Journal(home / JOURNAL_FILE)
    client = DeviceClient(credential.server, credential.token)
    console = Console()
    reporter = Reporter(_say, console if console.is_terminal else None)
    runner = Runner(client, journal, RunOptions(root=root, home=home), observer=reporter)
    reporter.starting(credential.server, credential.device_id)
    loop = _Background(runner.run_once if args.once else partial(runner.run_forever, None))
    try:
        if loop.result() is False:
            _err(_("Some documents could not be placed: see `ledgerdrop-agent status`."))
            return EXIT_INCOMPLETE
        return EXIT_OK
    except Unauthorized as exc:
        message = _(
            "The server no longer accepts this device's credential ({detail}): pair again "
            "with {command}"
        ).format(detail=exc, command=PAIR_COMMAND)
        journal.note_error(message)
        logging.getLogger(LOGGER).error(message)
        _err(message)
        return EXIT_UNPAIRED
    except ServerUnavailable as exc:
        journal.note_error(str(exc))
        _err(
            _(
                "Cannot reach the server: {detail}. Placed files are acknowledged on the next run."
            ).format(detail=exc)
        )
        return EXIT_UNREACHABLE
    except ProblemError as exc:
        journal.note_error(str(exc))
        _err(_("The server refused the request: {detail}").format(detail=exc))
        return EXIT_INCOMPLETE
    finally:
        # On a stop (Ctrl-C, SIGTERM) this returns within a second: a download stuck on a slow
        # server is abandoned, and the journal is left to the process exit when a thread may
        # still hold it (SQLite keeps every committed placement either way).
        finished = runner.close()
        finished = loop.join(STOP_GRACE) and finished
        client.close()
        if finished:
            journal.close()


class _Background:
    """The downloader's loop on a daemon thread, while the main thread waits in short steps:
    on Windows a signal (Ctrl-C) reaches Python only between steps — a socket read or a lock
    wait is not interrupted there — and a loop stuck on the network must not keep a stopping
    process alive."""

    def __init__(self, work: Callable[[], object]) -> None:
        self._work = work
        self._outcome: list[object] = []
        self._failure: list[BaseException] = []
        self._thread = threading.Thread(target=self._run, name="ledgerdrop-loop", daemon=True)
        self._thread.start()

    def result(self) -> object:
        while self._thread.is_alive():
            self._thread.join(0.25)
        if self._failure:
            raise self._failure[0]
        return self._outcome[0]

    def join(self, timeout: float) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _run(self) -> None:
        try:
            self._outcome.append(self._work())
        except BaseException as exc:
            self._failure.append(exc)


def _configure_logging(home: Path, log_file: str | None) -> None:
    """Structured events go to the log file, for support; the terminal gets `Reporter`'s
    sentences instead."""
    logger = logging.getLogger(LOGGER)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    for previous in list(logger.handlers):
        logger.removeHandler(previous)
        previous.close()
    path = Path(log_file).expanduser() if log_file else home / LOG_FILE
    logger.addHandler(file_handler(path))


def _say(line: str) -> None:
    print(line, flush=True)


# -- status, unpair, service --------------------------------------------------------------------


def _status(args: argparse.Namespace, home: Path) -> int:
    credential = load_credential(home)
    lines: list[tuple[str, str]] = []
    if credential is None:
        lines.append((_("Paired:"), _("no ({command})").format(command=PAIR_COMMAND)))
    else:
        lines += [
            (_("Paired:"), _("yes")),
            (_("Server:"), credential.server),
            (_("Device:"), str(credential.device_id)),
        ]
    lines.append((_("Agent home:"), str(home)))
    if sys.platform == "win32":
        lines.append((_("Service:"), _task_state()))
    journal_path = home / JOURNAL_FILE
    if not journal_path.exists():
        lines.append((_("Last contact:"), _("never")))
        _print_table(lines)
        return EXIT_OK if credential else EXIT_UNPAIRED
    journal = Journal(journal_path)
    try:
        summary = journal.summary()
    finally:
        journal.close()
    backlog = _("unknown") if summary.backlog is None else str(summary.backlog)
    folder = summary.main_folder or summary.root_folder or _("not known yet")
    lines += [
        (_("Main folder:"), folder),
        (_("Last contact:"), _when(summary.last_contact)),
        (
            _("Pending:"),
            _("{placed} placed, not yet acknowledged; {offered} offered at last contact").format(
                placed=summary.placed_not_acked, offered=backlog
            ),
        ),
        (_("Placed:"), str(summary.acked)),
        (_("Failed:"), str(summary.failed)),
    ]
    if summary.last_error:
        lines.append((_("Last error:"), f"{summary.last_error} ({_when(summary.last_error_at)})"))
    _print_table(lines)
    return EXIT_OK if credential else EXIT_UNPAIRED


def _print_table(lines: list[tuple[str, str]]) -> None:
    width = max(len(label) for label, _value in lines) + 2
    for label, value in lines:
        print(f"{label:<{width}}{value}")


def _unpair(args: argparse.Namespace, home: Path) -> int:
    if delete_credential(home):
        print(_("Credential removed. Delete the device in the web app too, if it is still listed."))
    else:
        print(_("This machine was not paired."))
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
        _err(_("Cannot write the unit ({detail}): run as root, or use --user.").format(detail=exc))
        return EXIT_USAGE
    except subprocess.CalledProcessError as exc:
        _err(
            _("The unit was written but `{command}` failed (exit {code}).").format(
                command=" ".join(exc.cmd), code=exc.returncode
            )
        )
        return EXIT_INCOMPLETE
    print(_("Wrote {path}").format(path=installed.unit_path))
    if installed.enabled:
        print(_("Enabled and started: `systemctl status ledgerdrop-agent` shows it."))
    else:
        scope = "--user " if args.user else ""
        command = (
            f"systemctl {scope}daemon-reload && systemctl {scope}enable --now {service.UNIT_NAME}"
        )
        print(_("Enable it with: {command}").format(command=command))
    if args.user:
        print(_("For a user unit to run without a login session: loginctl enable-linger"))
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
        return _("unknown ({detail})").format(detail=exc)
    if not state.registered:
        return _("not installed (ledgerdrop-agent service install)")
    return _("scheduled task registered, {state}").format(state=state.status or _("state unknown"))


def _when(moment: datetime | None) -> str:
    if moment is None:
        return _("never")
    minutes = int((now() - moment).total_seconds() // 60)
    ago = _("just now") if minutes < 1 else _("{minutes} min ago").format(minutes=minutes)
    return f"{moment.astimezone():%Y-%m-%d %H:%M:%S} ({ago})"


def _exit_cleanly(signum: int, frame: object) -> None:
    raise SystemExit(EXIT_OK)


def _err(message: str) -> None:
    print(message, file=sys.stderr)
