"""E-mail presets: each document e-mailed, one message each, to the address its kind goes to,
through a real SMTP server on loopback (aiosmtpd), with the receiving server's answers."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import socket
from collections.abc import Iterator
from email.message import EmailMessage
from html import unescape
from typing import Any, NamedTuple

import pytest
from aiosmtpd.controller import Controller
from django.test import Client
from django.utils import translation
from pytest_django import Settings as SettingsWrapper

from ledgerdrop.accounts import services as accounts_services
from ledgerdrop.accounts.models import Dossier, Organisation
from ledgerdrop.connectors.presets import mail, services
from ledgerdrop.connectors.presets.catalogue import PRESETS, Mechanism
from ledgerdrop.connectors.presets.models import Message
from ledgerdrop.core import storage, tasks
from ledgerdrop.core.errors import ServiceError
from ledgerdrop.delivery import services as delivery_services
from ledgerdrop.documents import slots
from ledgerdrop.documents.models import Document
from tests import builders

Kind = Document.Kind


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Inbox:
    """The receiving mail server: takes every message, unless told to answer otherwise."""

    def __init__(self) -> None:
        self.received: list[Any] = []
        self.replies: list[str] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.replies:
            return self.replies.pop(0)
        self.received.append(envelope)
        return "250 2.0.0 Ok: queued as LD42"

    def messages(self) -> list[EmailMessage]:
        return [
            email.message_from_bytes(envelope.content, policy=email.policy.default)
            for envelope in self.received
        ]


@pytest.fixture
def inbox(settings: SettingsWrapper) -> Iterator[Inbox]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    try:
        yield inbox
    finally:
        controller.stop()


@pytest.fixture
def silent_server(settings: SettingsWrapper) -> None:
    """A mail server that never answers, and one try more after the first."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nobody listens
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.LEDGERDROP_CONNECTOR_EMAIL_RETRY_SECONDS = [60]


class Setup(NamedTuple):
    firm: Organisation
    company: Organisation
    dossier: Dossier


@pytest.fixture
def setup() -> Setup:
    firm = builders.firm()
    company = builders.company("Dupont SRL")
    return Setup(firm, company, accounts_services.link_accountant(company, firm, by=None))


def addresses_of(app: str) -> dict[str, str]:
    return {key: f"{key.replace('_', '-')}@{app}.example.be" for key in PRESETS[app].address_keys}


def attachments(message: EmailMessage) -> dict[str, bytes]:
    return {
        part.get_filename() or "": part.get_payload(decode=True)  # type: ignore[misc]
        for part in message.iter_attachments()
    }


@pytest.mark.django_db(transaction=True)
def test_each_document_is_emailed_to_the_address_of_its_kind_with_its_ubl(
    setup: Setup, inbox: Inbox
) -> None:
    firm, company, dossier = setup
    services.connect(dossier, "admisol", addresses=addresses_of("admisol"), by=None)
    sale = builders.document(company, number="V-2026-0042")
    purchase = builders.document(company, kind=Kind.PURCHASE_INVOICE, number="A-77")

    queued = services.mail_documents(firm, "admisol", [sale, purchase], by=None)
    assert [message.state for message in queued] == ["queued", "queued"]
    assert slots.transfer_of(sale).state == "queued"
    tasks.run_worker(stop_when_idle=True, interval=0)

    received = {message["To"]: message for message in inbox.messages()}
    assert set(received) == {"sales@admisol.example.be", "purchases@admisol.example.be"}
    to_sales = received["sales@admisol.example.be"]
    assert company.name in to_sales["Subject"] and "V-2026-0042" in to_sales["Subject"]
    body = to_sales.get_body(preferencelist=("plain",))
    assert body is not None and "V-2026-0042" in body.get_content()
    (ubl,) = attachments(to_sales).values()
    assert ubl == storage.read(sale.ubl_sha256)
    assert list(attachments(received["purchases@admisol.example.be"]).values()) == [
        storage.read(purchase.ubl_sha256)
    ]
    # Delivered once the receiving server took it, with its answer in the history.
    delivered = Message.objects.get(shipment__document=sale)
    assert (delivered.state, delivered.answer) == ("delivered", "250 2.0.0 Ok: queued as LD42")
    transfer = slots.transfer_of(sale)
    assert (transfer.state, transfer.by) == ("delivered", "admisol")
    assert 'class="sage-icon sage-green"' in slots.icon(transfer)
    assert list(services.documents_to_process(firm, "admisol")) == []


@pytest.mark.django_db
def test_the_pdf_goes_beside_the_ubl_when_the_connection_wants_it(
    setup: Setup, inbox: Inbox
) -> None:
    firm, company, dossier = setup
    services.connect(
        dossier, "clearfacts", addresses=addresses_of("clearfacts"), payload="ubl_and_pdf",
        by=None,
    )  # fmt: skip
    invoice = builders.document(company, number="F-1")
    (message,) = services.mail_documents(firm, "clearfacts", [invoice], by=None)
    assert services.attempt_message(message.pk) == "delivered"

    files = attachments(inbox.messages()[0])
    assert sorted(name[-4:] for name in files) == [".pdf", ".xml"]
    assert set(files.values()) == {
        storage.read(invoice.ubl_sha256),
        storage.read(invoice.pdf_sha256),
    }


@pytest.mark.django_db
def test_the_pdf_alone_is_attached_when_the_connection_wants_only_it(
    setup: Setup, inbox: Inbox
) -> None:
    firm, company, dossier = setup
    services.connect(
        dossier, "winauditor", addresses=addresses_of("winauditor"), payload="pdf", by=None
    )
    invoice = builders.document(company, number="F-2")
    (message,) = services.mail_documents(firm, "winauditor", [invoice], by=None)
    assert services.attempt_message(message.pk) == "delivered"

    files = attachments(inbox.messages()[0])
    assert [name[-4:] for name in files] == [".pdf"]
    assert list(files.values()) == [storage.read(invoice.pdf_sha256)]


@pytest.mark.django_db
def test_a_temporary_refusal_is_tried_again_and_a_permanent_one_fails_with_the_reason(
    setup: Setup, inbox: Inbox
) -> None:
    firm, company, dossier = setup
    services.connect(dossier, "yuki", addresses={"inbox": "dupont@yuki.example.be"}, by=None)
    invoice = builders.document(company)
    (message,) = services.mail_documents(firm, "yuki", [invoice], by=None)
    inbox.replies = ["451 4.3.0 Mailbox busy, try again later", "550 5.1.1 No such mailbox"]

    assert services.attempt_message(message.pk) == "queued"
    message.refresh_from_db()
    assert message.answer == "451 4.3.0 Mailbox busy, try again later"
    assert message.next_attempt_at is not None and message.attempts == 1
    waiting = slots.transfer_of(invoice)
    assert waiting.state == "queued" and "451 4.3.0" in (waiting.error or "")

    assert services.attempt_message(message.pk) == "failed"
    message.refresh_from_db()
    assert message.answer == "550 5.1.1 No such mailbox"
    assert "550 5.1.1 No such mailbox" in message.failure_message
    failed = slots.transfer_of(invoice)
    assert failed.state == "failed" and "550 5.1.1" in (failed.error or "")
    assert 'class="sage-icon sage-red"' in slots.icon(failed)
    assert inbox.received == []
    # A message that failed for good is not tried again by itself.
    assert services.attempt_message(message.pk) == "failed"


@pytest.mark.django_db
def test_a_server_that_does_not_answer_fails_after_the_last_try(
    setup: Setup, silent_server: None
) -> None:
    firm, company, dossier = setup
    services.connect(dossier, "email", addresses=addresses_of("email"), by=None)
    (message,) = services.mail_documents(firm, "email", [builders.document(company)], by=None)

    assert services.attempt_message(message.pk) == "queued"
    assert services.attempt_message(message.pk) == "failed"
    message.refresh_from_db()
    assert message.attempts == 2
    assert "2" in message.failure_message and "127.0.0.1" in message.failure_message


@pytest.mark.django_db
def test_a_message_above_the_size_limit_is_not_sent_and_says_which_limit(
    setup: Setup, inbox: Inbox, settings: SettingsWrapper
) -> None:
    firm, company, dossier = setup
    settings.LEDGERDROP_CONNECTOR_EMAIL_MAX_BYTES = 1000
    services.connect(dossier, "winauditor", addresses=addresses_of("winauditor"), by=None)
    (message,) = services.mail_documents(firm, "winauditor", [builders.document(company)], by=None)

    assert services.attempt_message(message.pk) == "failed"
    message.refresh_from_db()
    assert "1000" in message.failure_message
    assert "LEDGERDROP_CONNECTOR_EMAIL_MAX_BYTES" in message.failure_message
    assert inbox.received == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("addresses", "code"),
    [
        ({"sales": "ventes@admisol.be"}, "missing_address"),
        ({"sales": "ventes@admisol.be", "purchases": "achats at admisol.be"}, "invalid_address"),
        ({"sales": "a@b.be", "purchases": "c@d.be", "inbox": "e@f.be"}, "unknown_address"),
    ],
)
def test_addresses_that_are_refused(setup: Setup, addresses: dict[str, str], code: str) -> None:
    with pytest.raises(ServiceError) as refused:
        services.connect(setup.dossier, "admisol", addresses=addresses, by=None)
    assert refused.value.code == code
    with pytest.raises(ServiceError) as refused:
        mail.preview_messages(setup.dossier, "admisol", addresses=addresses)
    assert refused.value.code == code


EMAIL_APPS = sorted(slug for slug, p in PRESETS.items() if p.mechanism is Mechanism.EMAIL)

# The address each kind of document goes to, per preset (addresses_of: key@app.example.be).
ADDRESS_TABLE = {
    "admisol": ["sales", "sales", "purchases", "purchases"],
    "winauditor": ["sales", "sales", "purchases", "purchases"],
    "yuki": ["inbox", "inbox", "inbox", "inbox"],
    "clearfacts": ["sales", "sales", "purchases", "purchases"],
    "winbooks-web": ["sales-invoice", "credit-note", "purchase-invoice", "purchase-slip"],
    "email": ["sales", "sales", "purchases", "purchases"],
}


@pytest.mark.django_db
@pytest.mark.parametrize("app", EMAIL_APPS)
def test_email_preset_sends_each_kind_to_its_address(setup: Setup, app: str) -> None:
    firm, company, dossier = setup
    services.connect(dossier, app, addresses=addresses_of(app), by=None)
    kinds = [Kind.SALES_INVOICE, Kind.CREDIT_NOTE, Kind.PURCHASE_INVOICE, Kind.PURCHASE_SLIP]
    documents = [builders.document(company, kind=kind) for kind in kinds]

    messages = services.mail_documents(firm, app, documents, by=None)

    expected = [f"{key}@{app}.example.be" for key in ADDRESS_TABLE[app]]
    assert [message.to for message in messages] == expected
    samples = mail.preview_messages(dossier, app, addresses=addresses_of(app))
    assert [sample.address for sample in samples] == expected
    assert all(company.name in sample.subject for sample in samples)


@pytest.mark.django_db
def test_a_document_goes_once_by_itself_and_again_only_by_hand(setup: Setup) -> None:
    firm, company, dossier = setup
    connection = services.connect(dossier, "yuki", addresses={"inbox": "d@yuki.be"}, by=None)
    invoice = builders.document(company)
    (first,) = services.mail_documents(firm, "yuki", [invoice], by=None)

    assert services.mail_documents(firm, "yuki", [invoice], by=None) == []
    (again,) = services.mail_again(firm, "yuki", invoice, by=None)
    assert again.pk != first.pk
    assert [s.origin for s in services.history(connection)] == ["again", "accountant"]


@pytest.mark.django_db
def test_the_nightly_transfer_emails_what_bob_demats_rules_send_once(setup: Setup) -> None:
    _firm, company, dossier = setup
    services.connect(
        dossier, "yuki", addresses={"inbox": "d@yuki.be"}, auto_transfer=True,
        start_date=dt.date(2026, 11, 1), by=None,
    )  # fmt: skip
    sent = builders.document(company)
    Document.objects.filter(pk=sent.pk).update(status=Document.Status.SENT)

    assert services.run_autosend(on=dt.date(2026, 11, 30)).queued == 1
    (message,) = Message.objects.all()
    assert message.to == "d@yuki.be"
    assert services.run_autosend(on=dt.date(2026, 11, 30)).queued == 0


@pytest.mark.django_db(transaction=True)
def test_the_nightly_messages_reach_the_mail_server_each_once_with_retries_of_their_own(
    setup: Setup, inbox: Inbox, settings: SettingsWrapper, monkeypatch: pytest.MonkeyPatch
) -> None:
    _firm, company, dossier = setup
    monkeypatch.setattr(services, "MESSAGES_PER_TASK", 2)
    settings.LEDGERDROP_CONNECTOR_EMAIL_RETRY_SECONDS = [0]
    services.connect(
        dossier, "admisol", addresses=addresses_of("admisol"), payload="ubl_and_pdf",
        auto_transfer=True, start_date=dt.date(2026, 11, 1), by=None,
    )  # fmt: skip
    sales = [builders.document(company, number=f"V-{n}") for n in range(3)]
    purchase = builders.document(company, kind=Kind.PURCHASE_INVOICE, number="A-77")
    Document.objects.update(status=Document.Status.SENT)
    # The first message is refused for now: it alone is tried again.
    inbox.replies = ["451 4.3.0 Mailbox busy, try again later"]

    assert services.run_autosend(on=dt.date(2026, 11, 30)).queued == 4
    assert services.run_autosend(on=dt.date(2026, 11, 30)).queued == 0
    tasks.run_worker(stop_when_idle=True, interval=0)

    received = inbox.messages()
    assert sorted(message["To"] for message in received) == [
        "purchases@admisol.example.be",
        *3 * ["sales@admisol.example.be"],
    ]
    for document in [*sales, purchase]:
        (message,) = [m for m in received if document.number in m["Subject"]]
        assert set(attachments(message).values()) == {
            storage.read(document.ubl_sha256),
            storage.read(document.pdf_sha256),
        }
    attempts = sorted(Message.objects.values_list("state", "attempts"))
    assert attempts == [("delivered", 1), ("delivered", 1), ("delivered", 1), ("delivered", 2)]


@pytest.mark.django_db
def test_a_dossier_on_a_folder_and_an_email_package_gets_each_document_in_both(
    setup: Setup, inbox: Inbox
) -> None:
    firm, company, dossier = setup
    device = delivery_services.register_device(firm, name="PC").device
    services.connect(dossier, "expert-m", by=None)
    services.connect(dossier, "yuki", addresses={"inbox": "d@yuki.be"}, by=None)
    invoice = builders.document(company)

    (placed,) = services.send(firm, "expert-m", [invoice], device=device, by=None)
    (message,) = services.mail_documents(firm, "yuki", [invoice], by=None)
    services.attempt_message(message.pk)

    assert placed.relative_path.startswith("0403019261/Verkopen/")
    assert [m["To"] for m in inbox.messages()] == ["d@yuki.be"]
    assert invoice not in services.documents_to_process(firm, "expert-m")
    assert invoice not in services.documents_to_process(firm, "yuki")
    with pytest.raises(ServiceError) as refused:
        services.send(firm, "yuki", [invoice], device=device, by=None)
    assert refused.value.code == "sent_by_email"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("language", "words"),
    [("nl", "Geweigerd: 550 5.1.1 No such mailbox"), ("en", "Refused: 550 5.1.1 No such mailbox")],
)
def test_a_refusal_the_worker_recorded_in_french_reads_in_the_accountants_language(
    setup: Setup, inbox: Inbox, language: str, words: str
) -> None:
    firm, company, dossier = setup
    services.switch(firm, "yuki", True, by=None)
    connection = services.connect(
        dossier, "yuki", addresses={"inbox": "dupont@yuki.example.be"}, by=None
    )
    services.mail_documents(firm, "yuki", [builders.document(company)], by=None)
    inbox.replies = ["550 5.1.1 No such mailbox"]
    with translation.override("fr"):
        tasks.run_worker(stop_when_idle=True, interval=0)
    assert Message.objects.get().failure_message == "Refusé : 550 5.1.1 No such mailbox"

    accountant = firm.memberships.get().user
    accountant.language = language
    accountant.save(update_fields=["language"])
    browser = Client(headers={"Accept-Language": "fr"})
    browser.force_login(accountant)
    page = browser.get(f"/firms/{firm.pk}/connectors/yuki/connections/{connection.pk}/")

    assert words in unescape(page.content.decode())
    assert "Refusé" not in unescape(page.content.decode())


@pytest.mark.django_db
def test_a_message_waiting_for_a_server_that_did_not_answer_says_so_in_the_readers_language(
    setup: Setup, silent_server: None
) -> None:
    firm, company, dossier = setup
    services.connect(dossier, "email", addresses=addresses_of("email"), by=None)
    invoice = builders.document(company)
    (message,) = services.mail_documents(firm, "email", [invoice], by=None)
    with translation.override("fr"):
        assert services.attempt_message(message.pk) == "queued"

    with translation.override("nl"):
        waiting = slots.transfer_of(invoice).error or ""

    assert waiting.startswith("De mailserver heeft het nog niet aanvaard (Geen antwoord van")
    assert "127.0.0.1" in waiting
