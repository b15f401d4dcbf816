"""`service install` on Windows: the scheduled task it writes and the schtasks commands it runs."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path, PureWindowsPath

import pytest

from ledgerdrop_agent import task
from ledgerdrop_agent.cli import main

NS = {"t": "http://schemas.microsoft.com/windows/2004/02/mit/task"}
HOME = PureWindowsPath(r"C:\Users\kevin\AppData\Local\ledgerdrop-agent")
PYTHON = PureWindowsPath(r"C:\Program Files\Ledgerdrop\python\python.exe")


def parse(definition: str) -> ET.Element:
    return ET.fromstring(definition.split("?>", 1)[1])  # noqa: S314 - our own output


def text(tree: ET.Element, path: str) -> str:
    found = tree.find(path, NS)
    assert found is not None, path
    return found.text or ""


class Schtasks:
    """Records the commands; answers like schtasks for a task in the given state."""

    def __init__(self, *, registered: bool = False, status: str = "Running") -> None:
        self.commands: list[list[str]] = []
        self.registered = registered
        self.status = status

    def __call__(self, command: list[str]) -> subprocess.CompletedProcess[str]:
        self.commands.append(command)
        verb = command[1]
        if verb == "/Create":
            self.registered = True
        if verb == "/Delete":
            self.registered = False
        if verb == "/Query" and not self.registered:
            return subprocess.CompletedProcess(command, 1, "", "ERROR: cannot find the file.")
        answer = f'"\\{task.TASK_NAME}","N/A","{self.status}"\r\n' if verb == "/Query" else ""
        return subprocess.CompletedProcess(command, 0, answer, "")


def test_the_task_starts_at_boot_and_is_started_again_whenever_it_stopped() -> None:
    tree = parse(task.render_task(home=HOME, python=PYTHON))

    assert text(tree, "t:Triggers/t:BootTrigger/t:Enabled") == "true"
    assert text(tree, "t:Triggers/t:BootTrigger/t:Repetition/t:Interval") == "PT5M"
    assert text(tree, "t:Settings/t:MultipleInstancesPolicy") == "IgnoreNew"
    assert text(tree, "t:Settings/t:RestartOnFailure/t:Count") == "999"
    # Never stopped after the default 72 hours, nor on batteries.
    assert text(tree, "t:Settings/t:ExecutionTimeLimit") == "PT0S"
    assert text(tree, "t:Settings/t:DisallowStartIfOnBatteries") == "false"
    assert text(tree, "t:Settings/t:StopIfGoingOnBatteries") == "false"


def test_the_task_runs_the_agent_with_its_home_as_system_by_default() -> None:
    tree = parse(task.render_task(home=HOME, python=PYTHON, root=PureWindowsPath(r"D:\BOB 50")))

    assert text(tree, "t:Principals/t:Principal/t:UserId") == "S-1-5-18"
    assert text(tree, "t:Actions/t:Exec/t:Command") == r"%SystemRoot%\System32\cmd.exe"
    assert text(tree, "t:Actions/t:Exec/t:Arguments") == (
        r'/d /c "set "LEDGERDROP_AGENT_HOME=C:\Users\kevin\AppData\Local\ledgerdrop-agent"'
        r' && "C:\Program Files\Ledgerdrop\python\python.exe" -m ledgerdrop_agent run'
        r' --log-file --root "D:\BOB 50""'
    )
    # Not the user-writable home: `python -m` would import from it.
    assert text(tree, "t:Actions/t:Exec/t:WorkingDirectory") == str(PYTHON.parent)


def test_a_task_for_a_network_share_runs_as_the_given_user_with_a_password() -> None:
    tree = parse(task.render_task(home=HOME, python=PYTHON, run_as=r"CABINET\demat"))

    assert text(tree, "t:Principals/t:Principal/t:UserId") == r"CABINET\demat"
    assert text(tree, "t:Principals/t:Principal/t:LogonType") == "Password"
    assert task.create_command(PureWindowsPath(r"C:\h\task.xml"), r"CABINET\demat") == [
        "schtasks", "/Create", "/TN", "Ledgerdrop downloader", "/XML", r"C:\h\task.xml", "/F",
        "/RU", r"CABINET\demat", "/RP", "*",
    ]  # fmt: skip


def test_a_path_that_cmd_would_interpret_is_refused() -> None:
    with pytest.raises(task.TaskError, match=r"cmd\.exe"):
        task.render_task(home=PureWindowsPath(r"C:\Users\R&D\agent"), python=PYTHON)


def test_install_writes_the_definition_registers_it_and_starts_it(tmp_path: Path) -> None:
    schtasks = Schtasks()

    path = task.install(home=tmp_path, run=schtasks)

    assert path == tmp_path / task.TASK_FILE
    definition = path.read_bytes().decode("utf-16")
    assert "<BootTrigger>" in definition
    assert schtasks.commands == [
        task.create_command(PureWindowsPath(path)),
        ["schtasks", "/Run", "/TN", "Ledgerdrop downloader"],
    ]


def test_install_without_registering_only_writes_the_definition(tmp_path: Path) -> None:
    schtasks = Schtasks()

    task.install(home=tmp_path, register=False, run=schtasks)

    assert (tmp_path / task.TASK_FILE).exists()
    assert schtasks.commands == []


def test_a_refused_registration_says_what_schtasks_said(tmp_path: Path) -> None:
    def refused(command: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(command, 1, "", "ERROR: Access is denied.")

    with pytest.raises(task.TaskError, match="Access is denied"):
        task.install(home=tmp_path, run=refused)


def test_status_tells_whether_the_task_is_registered_and_running() -> None:
    assert task.state(run=Schtasks(registered=True, status="Running")) == task.TaskState(
        registered=True, status="Running"
    )
    assert not task.state(run=Schtasks(registered=False)).registered


def test_uninstall_stops_and_removes_the_task(tmp_path: Path) -> None:
    schtasks = Schtasks()
    task.install(home=tmp_path, run=schtasks)

    assert task.uninstall(home=tmp_path, run=schtasks)

    assert ["schtasks", "/End", "/TN", "Ledgerdrop downloader"] in schtasks.commands
    assert schtasks.commands[-1] == task.delete_command()
    assert not (tmp_path / task.TASK_FILE).exists()
    assert not task.uninstall(home=tmp_path, run=schtasks)


@pytest.mark.skipif(sys.platform != "win32", reason="needs Windows' Task Scheduler")
def test_the_task_scheduler_accepts_the_definition(tmp_path: Path) -> None:
    path = task.install(home=tmp_path, register=False)
    stored = Path(os.environ["SYSTEMROOT"], "System32", "Tasks", task.TASK_NAME)
    try:
        # No pipes: the Task Scheduler service it may start would inherit and hold them.
        created = subprocess.run(task.create_command(path), stdin=subprocess.DEVNULL, check=False)
        assert created.returncode == 0, created
        assert stored.exists()
    finally:
        subprocess.run(task.delete_command(), stdin=subprocess.DEVNULL, check=False)
    assert not stored.exists()


@pytest.mark.skipif(sys.platform != "win32", reason="`service install` writes a task on Windows")
def test_service_install_on_windows_writes_the_task_and_shows_how_to_register_it(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["service", "install", "--no-enable", "--run-as", r"CABINET\demat"]) == 0

    definition = (home / task.TASK_FILE).read_bytes().decode("utf-16")
    assert r"<UserId>CABINET\demat</UserId>" in definition
    assert "schtasks /Create" in capsys.readouterr().out
