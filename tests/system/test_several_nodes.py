"""Several machines, each with its own empty disk, as the README's *Running on several machines*
lays them out, with the same nginx configuration and systemd units (deploy/): nginx in front of
two `ledgerdrop serve --no-worker` nodes, one `ledgerdrop worker`, PostgreSQL and an
S3-compatible object store (moto's server). A company issues through the balancer, its
accountant's firm sends, the real downloader long-polls through the balancer and places every
document, and carries on through the other node when one is killed mid-transfer. No node's
data folder holds a document."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from pytest_django import Settings as SettingsWrapper

from ledgerdrop.connectors.bob_demat import services as bob_demat
from ledgerdrop.connectors.bob_demat.models import AutosendRun, DematConnection
from ledgerdrop.core import periodic
from ledgerdrop.core.models import PeriodicRun, TaskWorker
from ledgerdrop.delivery import services as delivery_services
from ledgerdrop.delivery.models import Delivery, Device
from ledgerdrop.documents.models import Document
from tests import builders
from tests.conftest import Agent, database_url, free_port
from tests.object_storage import Bucket
from tests.system.transfer import placed_files, wait_until

pytestmark = [pytest.mark.system, pytest.mark.postgresql]

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
INVOICE = {
    "kind": "sales_invoice",
    "issue_date": "2026-11-02",
    "counterparty": {
        "name": "Brouwerij Noord NV",
        "vat_number": "BE0202239951",
        "address": {"street": "Kaai 3", "postal_code": "2000", "city": "Antwerpen"},
    },
    "lines": [{"description": "Forfait", "quantity": 1, "unit_price": "100", "vat_rate": 21}],
}


def unit_command(unit: str, **placeholders: str) -> list[str]:
    """The ExecStart of a deploy/systemd unit, run from this checkout's Python."""
    text = (DEPLOY / "systemd" / unit).read_text()
    [command] = re.findall(r"^ExecStart=(.+)$", text, flags=re.MULTILINE)
    for placeholder, value in placeholders.items():
        command = command.replace(placeholder, value)
    program, *args = shlex.split(command)
    assert program == "/opt/ledgerdrop/bin/ledgerdrop"
    return [sys.executable, "-m", "ledgerdrop.config.cli", *args]


@dataclass
class Machine:
    name: str
    data_dir: Path
    process: subprocess.Popen[bytes]
    log: Path

    def logs(self) -> str:
        return self.log.read_text(errors="replace")


@dataclass
class Cluster:
    url: str
    nodes: list[Machine]
    worker: Machine
    # What the machines are started with, for a test to start one more.
    env: dict[str, str]


def _start(name: str, command: list[str], env: dict[str, str], folder: Path) -> Machine:
    data_dir = folder / name
    data_dir.mkdir()
    log = folder / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, env={**env, "LEDGERDROP_DATA_DIR": str(data_dir)},
            stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    return Machine(name, data_dir, process, log)


def _up(url: str, machine: Machine | None = None) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if machine is not None and machine.process.poll() is not None:
            raise RuntimeError(f"{machine.name} stopped while starting:\n{machine.logs()}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def _nginx_config(folder: Path, listen: int, nodes: list[int]) -> Path:
    site = (DEPLOY / "nginx-ledgerdrop.conf").read_text()
    for example, port in zip(["10.0.0.11:8000", "10.0.0.12:8000"], nodes, strict=True):
        assert example in site
        site = site.replace(example, f"127.0.0.1:{port}")
    site = site.replace("listen 80;", f"listen 127.0.0.1:{listen};")
    (folder / "tmp").mkdir()
    (folder / "ledgerdrop.conf").write_text(site)
    # What a Debian nginx.conf around /etc/nginx/conf.d/ holds, in this test's folder.
    config = folder / "nginx.conf"
    config.write_text(
        "daemon off;\nworker_processes 1;\n"
        + ("user root;\n" if os.geteuid() == 0 else "")
        + f"pid {folder}/nginx.pid;\nerror_log {folder}/error.log warn;\n"
        "events { worker_connections 1024; }\n"
        "http {\n    access_log off;\n"
        + "".join(
            f"    {kind}_temp_path {folder}/tmp;\n"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        + f"    include {folder}/ledgerdrop.conf;\n}}\n"
    )
    return config


@pytest.fixture
def automatic_transfer(transactional_db: None, s3_bucket: Bucket) -> DematConnection:
    """A dossier with the nightly automatic transfer on and one paid invoice for it, ready
    before the cluster starts (its scheduler catches up on the night just gone at once)."""
    firm, company = builders.firm(), builders.company()
    _, connection = builders.connected_dossier(firm, company, code="DUPONT")
    bob_demat.update_connection(
        connection, auto_transfer=True, start_date=dt.date(2026, 1, 1), by=None
    )
    bob_demat.set_default_device(
        firm, delivery_services.register_device(firm, name="Serveur").device, by=None
    )
    invoice = builders.document(company, issue_date=dt.date(2026, 11, 2))
    Document.objects.filter(pk=invoice.pk).update(status=Document.Status.PAID)
    return connection


@pytest.fixture
def cluster(
    transactional_db: None, s3_bucket: Bucket, settings: SettingsWrapper, tmp_path: Path
) -> Iterator[Cluster]:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    assert Path(nginx).exists(), "nginx is missing: scripts/ensure-nginx.sh installs it"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("LEDGERDROP_")},
        **s3_bucket.environment(),
        "DATABASE_URL": database_url(),
        # The nodes and this test process sign sessions with the one shared key.
        "LEDGERDROP_SECRET_KEY": settings.SECRET_KEY,
        "LEDGERDROP_TRUSTED_PROXIES": "1",
        "LEDGERDROP_LOG_LEVEL": "WARNING",
    }
    ports = [free_port(), free_port()]
    machines = [
        _start(f"node-{n}", unit_command("ledgerdrop-node@.service", **{"%i": str(port)}), env,
               tmp_path)
        for n, port in enumerate(ports)
    ]  # fmt: skip
    worker = _start("worker", unit_command("ledgerdrop-worker.service"), env, tmp_path)
    balancer_folder = tmp_path / "nginx"
    balancer_folder.mkdir()
    listen = free_port()
    balancer = subprocess.Popen(
        [nginx, "-c", str(_nginx_config(balancer_folder, listen, ports)), "-p",
         str(balancer_folder)],
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for machine, port in zip(machines, ports, strict=True):
            # The nodes listen on every address, as on a private network.
            _up(f"http://127.0.0.1:{port}", machine)
        url = f"http://127.0.0.1:{listen}"
        _up(url)
        yield Cluster(url=url, nodes=machines, worker=worker, env=env)
    finally:
        for process in [balancer, worker.process, *(m.process for m in machines)]:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def _token(client: httpx.Client, email: str) -> dict[str, str]:
    answer = client.post("/api/v1/tokens", json={"email": email, "password": builders.PASSWORD})
    assert answer.status_code == 201, answer.text
    return {"Authorization": f"Bearer {answer.json()['token']}"}


def test_two_nodes_behind_nginx_share_everything_and_survive_one_being_killed(
    cluster: Cluster, s3_bucket: Bucket, tmp_path: Path
) -> None:
    company = builders.invoicing_company()
    firm = builders.firm()
    builders.connected_dossier(firm, company, code="DUPONT")
    root = tmp_path / "bob-demat"
    root.mkdir()
    agent = Agent(home=tmp_path / "agent-home", root=root, server=cluster.url)
    client = httpx.Client(base_url=cluster.url, timeout=30)
    as_company = _token(client, company.memberships.get().user.email)
    as_firm = _token(client, firm.memberships.get().user.email)

    def issue_and_send(count: int) -> list[str]:
        ids, shas = [], []
        for _ in range(count):
            issued = client.post(
                f"/api/v1/companies/{company.pk}/documents", json=INVOICE, headers=as_company
            )
            assert issued.status_code == 201, issued.text
            ubl = client.get(issued.json()["ubl"]["url"], headers=as_company)
            assert ubl.status_code == 200
            ids.append(issued.json()["id"])
            shas.append(hashlib.sha256(ubl.content).hexdigest())
        sent = client.post(
            f"/api/v1/firms/{firm.pk}/bob-demat/send",
            json={"document_ids": ids, "device_id": device.pk},
            headers=as_firm,
        )
        assert sent.status_code == 202, sent.text
        return shas

    _, key = delivery_services.mint_enrolment_key(firm, by=None)
    paired = agent.run("pair", "--server", cluster.url, "--name", "PC Kevin",
                       "--enrolment-key", key)  # fmt: skip
    assert paired.returncode == 0, paired.stdout + paired.stderr
    device = Device.objects.get(firm=firm)
    bob_demat.set_default_device(firm, device, by=None)
    downloader = agent.start("run", "--root", str(root))
    try:
        expected = issue_and_send(3)
        wait_until(lambda: len(placed_files(root)) == 3, 30, "the first documents placed")
        killed = cluster.nodes[0]
        killed.process.send_signal(signal.SIGKILL)
        killed.process.wait()
        expected += issue_and_send(3)
        wait_until(
            lambda: (
                Delivery.objects.filter(device=device, state=Delivery.State.DELIVERED).count() == 6
            ),
            45,
            "every delivery placed through the node left",
        )
        assert downloader.poll() is None, "the downloader must carry on, not exit"
    finally:
        downloader.terminate()
        output = downloader.communicate(timeout=30)[0]
    assert downloader.returncode == 0, output

    placed = sorted(hashlib.sha256(p.read_bytes()).hexdigest() for p in placed_files(root))
    assert placed == sorted(expected)
    stored = {
        entry["Key"].rsplit("/", 1)[-1]
        for entry in s3_bucket.client().list_objects_v2(Bucket=s3_bucket.name)["Contents"]
    }
    assert set(expected) <= stored
    for machine in [*cluster.nodes, cluster.worker]:
        on_disk = [p for p in machine.data_dir.rglob("*") if p.is_file()]
        assert not any(hashlib.sha256(p.read_bytes()).hexdigest() in stored for p in on_disk), (
            f"{machine.name} keeps a stored file on its own disk"
        )


def test_each_nights_automatic_transfer_runs_once_however_many_workers_are_alive(
    automatic_transfer: DematConnection, cluster: Cluster, tmp_path: Path
) -> None:
    second = _start("second-worker", unit_command("ledgerdrop-worker.service"), cluster.env,
                    tmp_path)  # fmt: skip
    try:
        wait_until(lambda: TaskWorker.objects.count() == 2, 30, "both workers to be up")
        wait_until(
            lambda: AutosendRun.objects.filter(connection=automatic_transfer).exists(),
            30,
            "the night's automatic transfer",
        )
        # This process too, as one more scheduler, finds the night's slot taken.
        assert "bob_demat.autosend" not in periodic.run_due_jobs()
    finally:
        second.process.terminate()
        second.process.wait(timeout=30)

    assert PeriodicRun.objects.filter(job="bob_demat.autosend").count() == 1
    assert AutosendRun.objects.filter(connection=automatic_transfer).count() == 1
    assert Delivery.objects.count() == 1
