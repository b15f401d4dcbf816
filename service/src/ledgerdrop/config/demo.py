"""`ledgerdrop demo`: the whole story on one machine, with no set-up.

Seeds a firm, two client companies with documents and BOB Demat connections, starts the server,
pairs a local downloader with a one-time enrolment key (the way an unattended server is set up),
and starts it. Files appear under `<data dir>/bob-demat/<code>/ventes` and `achats` within seconds.
A second run reuses the data and places nothing twice: only documents never sent are queued."""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import httpx
from django.conf import settings
from django.core.management import call_command
from django.db import transaction

from ledgerdrop.accounts import services as accounts_services
from ledgerdrop.accounts.models import Organisation, User
from ledgerdrop.config import demo_documents
from ledgerdrop.connectors.bob_demat import services as bob_demat
from ledgerdrop.connectors.bob_demat.models import DematConnection
from ledgerdrop.delivery import services as delivery_services
from ledgerdrop.delivery.models import Device
from ledgerdrop.documents import services as documents_services
from ledgerdrop.documents.models import Document

PASSWORD = "demo-ledgerdrop-2026"  # noqa: S105  (printed for the demo users)
FIRM_USER = "comptable@demo.ledgerdrop.be"
COMPANIES = [
    ("Boulangerie Dupont SRL", "BE0403019261", "dupont@demo.ledgerdrop.be", "DUPONT"),
    ("Garage Peeters BV", "BE0202239951", "peeters@demo.ledgerdrop.be", "PEETERS"),
]
DEVICE_NAME = "PC démo"


def _user(email: str) -> User:
    user = User.objects.filter(email=email).first()
    return user or User.objects.create_user(email, PASSWORD)


def _organisation(owner: User, kind: Organisation.Kind, name: str, vat: str = "") -> Organisation:
    existing = Organisation.objects.filter(kind=kind, name=name, memberships__user=owner).first()
    return existing or accounts_services.create_organisation(owner, kind, name, vat)


K, S = Document.Kind, Document.Status
# Every kind in every state that matters to the accountant: (kind, status, counterparty,
# amount incl. VAT, days ago). Sent, paid and approved ones go by the nightly transfer; issued
# ones wait for the client; the incoming one awaits approval; the rejected one never goes.
STORY = [
    (K.SALES_INVOICE, S.PAID, "Hôtel Métropole SA", Decimal("1210.00"), 20),
    (K.PURCHASE_INVOICE, S.APPROVED, "Moulins de Ciney SA", Decimal("484.00"), 18),
    (K.SALES_INVOICE, S.SENT, "Café du Parc SRL", Decimal("96.80"), 15),
    (K.CREDIT_NOTE, S.SENT, "Café du Parc SRL", Decimal("24.20"), 12),
    (K.INCOMING, S.APPROVED, "Electrabel SA", Decimal("302.50"), 10),
    (K.PURCHASE_SLIP, S.PAID, "Ferme du Bocq SRL", Decimal("363.00"), 8),
    (K.INCOMING, S.RECEIVED, "Proximus SA", Decimal("72.60"), 5),
    (K.SALES_INVOICE, S.ISSUED, "Hôtel Métropole SA", Decimal("605.00"), 3),
    (K.INCOMING, S.REJECTED, "Moulins de Ciney SA", Decimal("484.00"), 2),
    (K.SALES_INVOICE, S.ISSUED, "Café du Parc SRL", Decimal("48.40"), 1),
]
SUPPLIED_TO_COMPANY = frozenset({K.PURCHASE_INVOICE, K.INCOMING})
# The first dossier transfers automatically; the second is sent by hand.
AUTOMATIC_CODE = "DUPONT"


@transaction.atomic
def seed() -> Organisation:
    """Create the demo data once; on later runs, find it again."""
    firm_user = _user(FIRM_USER)
    firm = _organisation(firm_user, Organisation.Kind.FIRM, "Fiduciaire Démo")
    bob_demat.enable(firm, by=firm_user)
    for name, vat, email, code in COMPANIES:
        company_user = _user(email)
        company = _organisation(company_user, Organisation.Kind.COMPANY, name, vat)
        dossier = accounts_services.link_accountant(company, firm, by=company_user)
        if not company.documents.exists():
            _seed_documents(company, company_user)
        if not DematConnection.objects.filter(dossier=dossier).exists():
            bob_demat.connect(
                dossier,
                code,
                auto_transfer=code == AUTOMATIC_CODE,
                start_date=dt.date.today() - dt.timedelta(days=60),
                by=firm_user,
            )
    return firm


def _seed_documents(company: Organisation, owner: User) -> None:
    today = dt.date.today()
    for index, (kind, status, counterparty, amount, days_ago) in enumerate(STORY, start=1):
        issue_date = today - dt.timedelta(days=days_ago)
        number = f"{issue_date:%Y}-{index:04d}"
        supplied = kind in SUPPLIED_TO_COMPANY
        documents_services.store_issued_document(
            company,
            kind=kind,
            status=status,
            number=number,
            issue_date=issue_date,
            total=amount,
            counterparty_name=counterparty,
            ubl=demo_documents.ubl(
                kind=kind,
                number=number,
                issue_date=issue_date,
                supplier=counterparty if supplied else company.name,
                customer=company.name if supplied else counterparty,
                amount=amount,
            ),
            by=owner,
        )


def _demo_device(firm: Organisation) -> Device | None:
    return Device.objects.active().filter(firm=firm, name=DEVICE_NAME).order_by("-id").first()


def _pair_local_agent(firm: Organisation, server_url: str, agent_env: dict[str, str]) -> Device:
    _, key = delivery_services.mint_enrolment_key(firm, by=None)
    subprocess.run(
        [
            sys.executable, "-m", "ledgerdrop_agent", "pair",
            "--server", server_url, "--name", DEVICE_NAME, "--enrolment-key", key,
        ],
        env=agent_env,
        check=True,
        start_new_session=True,
    )  # fmt: skip
    device = _demo_device(firm)
    assert device is not None, "the downloader paired but its device is not in the database"
    return device


@transaction.atomic
def _route_documents(firm: Organisation, device: Device, root: Path) -> int:
    """Point the device at the demo folder and make it the default; run the nightly transfer
    now; the first time, the accountant also sends two documents of the manual dossier by hand.
    The rest stays in *Documents to process* for the visitor to send."""
    Device.objects.filter(pk=device.pk).update(root_folder=str(root))
    bob_demat.set_default_device(firm, device, by=None)
    queued = bob_demat.run_autosend(firm).queued
    for connection in DematConnection.objects.filter(firm=firm, auto_transfer=False):
        if not connection.transmissions.exists():
            by_hand = bob_demat.documents_to_process(firm, dossier=connection.dossier)
            queued += len(bob_demat.send(firm, list(by_hand[:2]), device, by=None))
    return queued


def _wait_until_up(url: str, server: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("the server stopped while starting; see its messages above")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"the server did not answer at {url} within {timeout:.0f} s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def port_in_use(host: str, port: int) -> bool:
    """Whether the server could not listen there. Checked first: otherwise the downloader
    would be paired with whatever answers on that port."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        # As uvicorn binds: a port left in TIME_WAIT by an earlier run is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


def _child(command: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    # A session of its own: Ctrl-C reaches the demo only, which stops its children in order,
    # instead of every process of the terminal printing its own interruption.
    return subprocess.Popen(command, env=env, start_new_session=True)


def run(*, host: str, port: int) -> int:
    """The demo until Ctrl-C, which ends it quietly (exit status 0)."""
    signal.signal(signal.SIGINT, signal.default_int_handler)  # `make demo` starts it ignored
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    if port_in_use(host, port):
        print(
            f"Port {port} on {host} is already in use (another Ledgerdrop demo, or another "
            f"program).\nStart the demo on another port: make demo PORT={port + 1}  "
            f"(or: ledgerdrop demo --port {port + 1})",
            file=sys.stderr,
        )
        return 2
    try:
        return _run(host=host, port=port)
    except KeyboardInterrupt:
        print("\nLedgerdrop demo stopped.", flush=True)
        return 0


def _run(*, host: str, port: int) -> int:
    call_command("migrate", interactive=False, verbosity=0)
    firm = seed()
    url = f"http://{host}:{port}"
    root = settings.DATA_DIR / "bob-demat"
    root.mkdir(parents=True, exist_ok=True)
    agent_env = {**os.environ, "LEDGERDROP_AGENT_HOME": str(settings.DATA_DIR / "agent")}

    server = _child(
        [
            sys.executable,
            "-m",
            "ledgerdrop.config.cli",
            "serve",
            "--host",
            host,
            "--port",
            str(port),
        ]
    )
    agent: subprocess.Popen[bytes] | None = None
    try:
        _wait_until_up(url, server)
        device = _demo_device(firm) or _pair_local_agent(firm, url, agent_env)
        queued = _route_documents(firm, device, root)
        agent = _child([sys.executable, "-m", "ledgerdrop_agent", "run"], env=agent_env)
        print(
            f"\nLedgerdrop demo is running at {url}\n"
            f"  accountant:  {FIRM_USER} / {PASSWORD}\n"
            + "".join(f"  client:      {email} / {PASSWORD}\n" for _, _, email, _ in COMPANIES)
            + f"  downloader:  '{DEVICE_NAME}' placing files under {root}\n"
            f"  {queued} document(s) queued now. Press Ctrl-C to stop.\n",
            flush=True,
        )
        while server.poll() is None and agent.poll() is None:
            time.sleep(0.5)
        return 1
    finally:
        if agent is not None:
            _stop(agent)
        _stop(server)
