"""An e-mail package connector in French through the real UI: Yuki switched on, a connection
whose form shows where the sample documents' messages go, a document sent from *Documents à
traiter* that the service's worker e-mails to a real SMTP server on loopback."""

from __future__ import annotations

import email
import email.policy
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from playwright.sync_api import Page, expect

from ledgerdrop.accounts import services as accounts_services
from ledgerdrop.connectors.presets.models import Message
from ledgerdrop.core import storage
from tests import builders
from tests.conftest import LiveService, started_service
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.e2e
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


class Inbox:
    def __init__(self) -> None:
        self.received: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append(envelope)
        return "250 2.0.0 Ok: queued as YUKI1"


@pytest.fixture(scope="module")
def inbox() -> Iterator[tuple[Inbox, int]]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture(scope="module")
def module_service(
    django_db_setup: None,
    tmp_path_factory: pytest.TempPathFactory,
    inbox: tuple[Inbox, int],
) -> Iterator[LiveService]:
    """The service with its SMTP settings on the loopback server."""
    service = started_service(tmp_path_factory.mktemp("service"))
    service.stop()
    service.env.update(
        LEDGERDROP_SMTP_HOST="127.0.0.1",
        LEDGERDROP_SMTP_PORT=str(inbox[1]),
        LEDGERDROP_SMTP_STARTTLS="0",
    )
    service.start()
    yield service
    service.stop()


def test_a_yuki_connection_previews_its_addresses_and_emails_a_document(
    page: Page, inbox: tuple[Inbox, int]
) -> None:
    firm = builders.firm("Fiduciaire Kevin", owner=builders.user("kevin@fiduciaire.be"))
    company = builders.company("Boulangerie Dupont SRL")
    accounts_services.link_accountant(company, firm, by=None)
    invoice = builders.document(company, number="V-2026-0042")
    sign_in(page, "kevin@fiduciaire.be")
    menu = page.get_by_role("navigation", name="Menu principal")

    menu.get_by_role("link", name="Applications & connexions").click()
    page.get_by_role("switch", name="Yuki").click()
    expect(page.get_by_role("switch", name="Yuki")).to_have_attribute("aria-checked", "true")
    menu.get_by_role("link", name="Yuki").click()
    page.get_by_role("link", name="Configurer une nouvelle connexion").click()
    page.get_by_label("Dossier", exact=True).select_option(label=company.name)
    page.get_by_label("Adresse de la boîte de réception").fill("dupont@yuki.example.be")

    preview = page.locator("#preview")
    expect(preview.locator("code[data-kind=sales_invoice]")).to_have_text("dupont@yuki.example.be")
    expect(preview.locator("dt")).to_have_count(4)
    expect(preview).to_contain_text(company.name)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "connector-email-preview.png", full_page=True)
    page.get_by_role("button", name="Enregistrer la connexion").click()
    expect(page.get_by_role("heading", name=company.name)).to_be_visible()

    page.get_by_role("link", name="Yuki").first.click()
    page.get_by_role("link", name=re.compile("Documents à traiter")).click()
    page.locator(f"#doc-{invoice.pk}").check()
    page.get_by_role("button", name="Envoyer vers Yuki").click()
    expect(page.get_by_text("1 messages en file d'attente.")).to_be_visible()

    # The service's worker hands it to the mail server; the history keeps its answer.
    while not Message.objects.filter(state=Message.State.DELIVERED).exists():
        time.sleep(0.2)  # the test's own timeout (pytest-timeout) bounds the wait
    page.goto(page.url.replace("documents-to-process/", ""))
    page.get_by_role("link", name=re.compile("Consulter")).click()
    expect(page.get_by_text("queued as YUKI1")).to_be_visible()
    expect(page.get_by_text("Remis")).to_be_visible()
    (envelope,) = inbox[0].received
    message = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert message["To"] == "dupont@yuki.example.be"
    assert "V-2026-0042" in message["Subject"]
    (attachment,) = message.iter_attachments()  # type: ignore[attr-defined]
    assert attachment.get_payload(decode=True) == storage.read(invoice.ubl_sha256)
