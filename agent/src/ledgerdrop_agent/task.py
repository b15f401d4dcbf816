"""Running the agent unattended on Windows: a scheduled task, registered with `schtasks`.

The task starts at boot (before anyone logs in), is started again every few minutes if it is not
running (Task Scheduler's "restart on failure" alone does not cover a process that exits with an
error), never times out, and ignores batteries. It runs as SYSTEM by default, or as a named user
(`--run-as`) when the main folder is on a network share that SYSTEM, acting as the computer's
account, may not write; schtasks then asks for that user's password.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePath, PureWindowsPath
from xml.sax.saxutils import escape

TASK_NAME = "Ledgerdrop downloader"
TASK_FILE = "ledgerdrop-agent-task.xml"
SYSTEM_ACCOUNT = "S-1-5-18"
RELAUNCH_EVERY = "PT5M"
CMD = r"%SystemRoot%\System32\cmd.exe"
# cmd.exe gives these a meaning even between quotes, or ends the quoting.
_CMD_SPECIAL = frozenset('"%^&|<>!')

Run = Callable[[list[str]], "subprocess.CompletedProcess[str]"]


class TaskError(Exception):
    pass


@dataclass(frozen=True)
class TaskState:
    registered: bool
    status: str  # as Windows words it ("Running", "Ready"... in the system's language)


def render_task(
    *,
    home: PureWindowsPath,
    python: PureWindowsPath,
    root: PureWindowsPath | None = None,
    run_as: str | None = None,
) -> str:
    """The task definition (Task Scheduler schema 1.2)."""
    command = _cmd_line(home=home, python=python, root=root)
    if run_as:
        principal = f"<UserId>{escape(run_as)}</UserId><LogonType>Password</LogonType>"
    else:
        principal = f"<UserId>{SYSTEM_ACCOUNT}</UserId>"
    lines = [
        '<?xml version="1.0" encoding="UTF-16"?>',
        '<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">',
        "  <RegistrationInfo>",
        "    <Description>Places the invoices sent from Ledgerdrop in the folders the"
        " accounting software imports from.</Description>",
        f"    <URI>\\{TASK_NAME}</URI>",
        "  </RegistrationInfo>",
        "  <Triggers>",
        "    <BootTrigger>",
        "      <Enabled>true</Enabled>",
        # Started again if it stopped: with IgnoreNew, never a second one beside a running one.
        f"      <Repetition><Interval>{RELAUNCH_EVERY}</Interval>"
        "<StopAtDurationEnd>false</StopAtDurationEnd></Repetition>",
        "    </BootTrigger>",
        "  </Triggers>",
        "  <Principals>",
        f'    <Principal id="Author">{principal}<RunLevel>LeastPrivilege</RunLevel></Principal>',
        "  </Principals>",
        "  <Settings>",
        "    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>",
        "    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>",
        "    <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>",
        "    <StartWhenAvailable>true</StartWhenAvailable>",
        "    <AllowStartOnDemand>true</AllowStartOnDemand>",
        "    <Enabled>true</Enabled>",
        # The default limit (72 hours) would stop a downloader that is meant to run for months.
        "    <ExecutionTimeLimit>PT0S</ExecutionTimeLimit>",
        "    <RestartOnFailure><Interval>PT1M</Interval><Count>999</Count></RestartOnFailure>",
        "  </Settings>",
        '  <Actions Context="Author">',
        "    <Exec>",
        f"      <Command>{escape(CMD)}</Command>",
        f"      <Arguments>{escape(command)}</Arguments>",
        # Not the agent home: `python -m` imports from the working folder, and the task may run
        # as SYSTEM while the home is writable by a user.
        f"      <WorkingDirectory>{escape(str(python.parent))}</WorkingDirectory>",
        "    </Exec>",
        "  </Actions>",
        "</Task>",
    ]
    return "\r\n".join(lines) + "\r\n"


def _cmd_line(
    *, home: PureWindowsPath, python: PureWindowsPath, root: PureWindowsPath | None
) -> str:
    """`cmd /d /c "set "HOME=…" && "python.exe" -m ledgerdrop_agent run --log-file"`: a task
    has no environment of its own, and the agent finds its home through the environment."""
    for path in (home, python, root):
        if path is not None and _CMD_SPECIAL & set(str(path)):
            raise TaskError(f"the path {path} holds a character cmd.exe would interpret")
    run = f'"{python}" -m ledgerdrop_agent run --log-file'
    if root is not None:
        run += f' --root "{root}"'
    return f'/d /c "set "LEDGERDROP_AGENT_HOME={home}" && {run}"'


def create_command(task_file: PurePath, run_as: str | None = None) -> list[str]:
    command = ["schtasks", "/Create", "/TN", TASK_NAME, "/XML", str(task_file), "/F"]
    if run_as:
        command += ["/RU", run_as, "/RP", "*"]  # "*": schtasks asks for the password itself
    return command


def delete_command() -> list[str]:
    return ["schtasks", "/Delete", "/TN", TASK_NAME, "/F"]


def install(
    *,
    home: Path,
    root: Path | None = None,
    run_as: str | None = None,
    register: bool = True,
    run: Run | None = None,
) -> Path:
    """Write the task definition in the agent home; register it and start it now."""
    run = run or _run
    python = PureWindowsPath(sys.executable)
    definition = render_task(
        home=PureWindowsPath(home),
        python=python,
        root=PureWindowsPath(root) if root else None,
        run_as=run_as,
    )
    home.mkdir(parents=True, exist_ok=True)
    path = home / TASK_FILE
    # schtasks reads task files in UTF-16, as Task Scheduler exports them.
    path.write_bytes(definition.encode("utf-16"))
    if register:
        # With --run-as, schtasks asks for the password on this terminal: not captured then.
        create = run if run_as is None or run is not _run else _run_interactive
        _check(create(create_command(PureWindowsPath(path), run_as)), "register")
        _check(run(["schtasks", "/Run", "/TN", TASK_NAME]), "start")
    return path


def uninstall(*, home: Path, run: Run | None = None) -> bool:
    """Stop and remove the task; False if there was none."""
    run = run or _run
    if not state(run=run).registered:
        (home / TASK_FILE).unlink(missing_ok=True)
        return False
    run(["schtasks", "/End", "/TN", TASK_NAME])  # fails harmlessly when it is not running
    _check(run(delete_command()), "remove")
    (home / TASK_FILE).unlink(missing_ok=True)
    return True


def state(*, run: Run | None = None) -> TaskState:
    run = run or _run
    answer = run(["schtasks", "/Query", "/TN", TASK_NAME, "/FO", "CSV", "/NH"])
    # One line per trigger: "\Ledgerdrop downloader","<next run time>","<status>"
    lines = [line for line in answer.stdout.splitlines() if TASK_NAME in line]
    if answer.returncode != 0 or not lines:
        return TaskState(registered=False, status="")
    return TaskState(registered=True, status=lines[-1].rsplit('","', 1)[-1].strip().strip('"'))


def _check(answer: subprocess.CompletedProcess[str], what: str) -> None:
    if answer.returncode != 0:
        detail = (answer.stderr or answer.stdout or "").strip()
        raise TaskError(f"schtasks could not {what} the task (exit {answer.returncode}): {detail}")


def _run(command: list[str]) -> subprocess.CompletedProcess[str]:
    # Output through a file, not pipes: a pipe stays open for as long as any process that
    # inherited it lives (the Task Scheduler service started on the way), and reading it would
    # wait for that. No stdin: schtasks would wait on a console that a service does not have.
    with tempfile.TemporaryFile() as output:
        done = subprocess.run(
            command, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT, check=False
        )
        output.seek(0)
        text = output.read().decode(errors="replace")
    return subprocess.CompletedProcess(command, done.returncode, text, "")


def _run_interactive(command: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, text=True, check=False)
