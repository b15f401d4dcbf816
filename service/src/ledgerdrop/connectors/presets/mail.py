"""The e-mail presets' messages: the addresses a connection takes, what a document's message
says and carries, and handing it to the SMTP server of the service's settings. Nothing here
changes state: `services` saves the messages and records what the receiving server answered."""

from __future__ import annotations

import datetime as dt
import smtplib
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from email.utils import parseaddr
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from ledgerdrop.accounts.models import Dossier
from ledgerdrop.connectors.presets import naming, reasons
from ledgerdrop.connectors.presets.catalogue import (
    ADDRESS_LABELS,
    DEFAULT_FILE_TEMPLATE,
    Preset,
    preset_of,
)
from ledgerdrop.connectors.presets.models import Connection, Message
from ledgerdrop.connectors.presets.routes import SAMPLES, Route, blob
from ledgerdrop.core import storage
from ledgerdrop.core.errors import Kind, ServiceError
from ledgerdrop.documents.models import Document


def clean_addresses(preset: Preset, addresses: dict[str, str]) -> dict[str, str]:
    """Every address the preset asks for, each a real e-mail address, and no other."""
    unknown = sorted(set(addresses) - set(preset.address_keys))
    if unknown:
        raise ServiceError(
            "unknown_address",
            _("%(app)s takes these addresses only: %(keys)s.")
            % {"app": preset.title, "keys": ", ".join(preset.address_keys)},
            Kind.INVALID,
        )
    cleaned = {}
    for key in preset.address_keys:
        address = (addresses.get(key) or "").strip()
        label = ADDRESS_LABELS.get(key, key)
        if not address:
            raise ServiceError(
                "missing_address", _("Fill in the %(label)s.") % {"label": label}, Kind.INVALID
            )
        try:
            validate_email(address)
        except ValidationError as exc:
            raise ServiceError(
                "invalid_address",
                _("%(label)s: “%(address)s” is not an e-mail address.")
                % {"label": label, "address": address},
                Kind.INVALID,
            ) from exc
        cleaned[key] = address
    return cleaned


def subject(*, company: str, kind_label: str, number: str) -> str:
    return _("%(company)s: %(kind)s %(number)s") % {
        "company": company,
        "kind": kind_label,
        "number": number,
    }


def body(
    *, company: str, kind_label: str, number: str, issue_date: str, total: str, firm: str
) -> str:
    return _(
        "%(kind)s %(number)s of %(company)s, dated %(date)s, total %(total)s.\n\n"
        "The document is attached as a UBL file (e-invoice), for your accounting package "
        "to book.\n\nSent by Ledgerdrop for %(firm)s."
    ) % {
        "kind": kind_label,
        "number": number,
        "company": company,
        "date": issue_date,
        "total": total,
        "firm": firm,
    }


def new_message(
    connection: Connection,
    *,
    kind: str,
    number: str,
    issue_date: dt.date,
    total: Decimal,
    currency: str,
) -> Message:
    """The message of a document, unsaved, to the address its kind goes to."""
    kind_label = str(Document.Kind(kind).label)
    company = connection.dossier.company.name
    return Message(
        to=connection.addresses[preset_of(connection.app).route(kind)],
        subject=subject(company=company, kind_label=kind_label, number=number),
        body=body(
            company=company,
            kind_label=kind_label,
            number=number,
            issue_date=issue_date.strftime("%d/%m/%Y"),
            total=f"{total} {currency}",
            firm=connection.firm.name,
        ),
    )


def attachments(connection: Connection, document: Document) -> list[tuple[str, bytes, str]]:
    """The UBL (and the PDF when the connection's payload wants it), named as a folder preset
    names its files by default."""
    route = Route.of(connection)
    facts = route.facts(
        kind=document.kind, number=document.number, issue_date=document.issue_date,
        id=document.pk,
    )  # fmt: skip
    stem = naming.file_stem(DEFAULT_FILE_TEMPLATE, facts)
    types = {"ubl": "application/xml", "pdf": "application/pdf"}
    return [
        (stem + suffix, storage.read(blob(document, part).sha256), types[part])
        for part, suffix in route.suffixes()
    ]


def build(
    *, to: str, subject: str, body: str, attachments: list[tuple[str, bytes, str]]
) -> EmailMessage:
    message = EmailMessage(subject=subject, body=body, to=[to])
    for name, content, mimetype in attachments:
        message.attach(name, content, mimetype)
    return message


def size_of(message: EmailMessage) -> int:
    """The bytes the server receives (attachments in base64, headers included)."""
    return len(message.message().as_bytes(linesep="\r\n"))


@dataclass(frozen=True)
class Outcome:
    accepted: bool
    # Refused for now (4xx, no answer at all): worth trying again later.
    temporary: bool
    # The server's answer, with its code ("250 2.0.0 Ok: queued as 4C2F1"), or what went wrong.
    answer: str
    # What went wrong, when the answer is the service's own words: a reason (`reasons`) as
    # {"code", "params"}, so that it is said again in the reader's language.
    reason: Mapping[str, Any] | None = None


def _failed(*, temporary: bool, code: str, **params: Any) -> Outcome:
    """An outcome the service words itself, no server having answered."""
    return Outcome(
        accepted=False,
        temporary=temporary,
        answer=reasons.text(code, params),
        reason={"code": code, "params": params},
    )


def _answer(code: int, reply: bytes | str) -> str:
    text = reply.decode(errors="replace") if isinstance(reply, bytes) else reply
    return f"{code} {' '.join(text.split())}".strip()


def _refused(code: int, reply: bytes | str) -> Outcome:
    return Outcome(accepted=False, temporary=400 <= code < 500, answer=_answer(code, reply))


def transmit(message: EmailMessage) -> Outcome:
    """Hand the message to the service's SMTP server and say what it answered. Without an SMTP
    host (development), Django's mail backend of the settings takes it (the outbox files)."""
    # A server that never answers must not hold the worker: a minute, unless EMAIL_TIMEOUT says.
    connection = get_connection(fail_silently=False, timeout=settings.EMAIL_TIMEOUT or 60)
    if not isinstance(connection, SMTPBackend):
        connection.send_messages([message])
        return Outcome(accepted=True, temporary=False, answer=_("Written to the outbox."))
    try:
        connection.open()
        smtp = connection.connection
        assert smtp is not None  # open() connects or raises
        try:
            # Command by command, unlike sendmail(), to keep the server's final answer.
            sender = parseaddr(message.from_email or settings.DEFAULT_FROM_EMAIL)[1]
            smtp.ehlo_or_helo_if_needed()
            code, reply = smtp.mail(sender)
            if code != 250:
                return _refused(code, reply)
            code, reply = smtp.rcpt(message.to[0])
            if code not in (250, 251):
                return _refused(code, reply)
            code, reply = smtp.data(message.message().as_bytes(linesep="\r\n"))
            if code != 250:
                return _refused(code, reply)
            return Outcome(accepted=True, temporary=False, answer=_answer(code, reply))
        finally:
            connection.close()
    except smtplib.SMTPResponseException as refusal:
        return _refused(refusal.smtp_code, refusal.smtp_error)
    except OSError as unreachable:
        # Connection refused, timed out, or closed midway: the server may take it later.
        return _failed(
            temporary=True,
            code="no_answer",
            host=connection.host,
            port=connection.port,
            error=str(unreachable),
        )


def hand_over(message: Message, connection: Connection, document: Document) -> Outcome:
    """One try at handing a message, with its document's files, to the SMTP server; refused
    for good, unsent, when it is bigger than the service sends."""
    email = build(
        to=message.to,
        subject=message.subject,
        body=message.body,
        attachments=attachments(connection, document),
    )
    size, limit = size_of(email), settings.LEDGERDROP_CONNECTOR_EMAIL_MAX_BYTES
    if size > limit:
        return _failed(temporary=False, code="too_big", size=size, limit=limit)
    return transmit(email)


@dataclass(frozen=True)
class SampleMessage:
    kind: str
    kind_label: str
    address: str
    subject: str


def preview_messages(
    dossier: Dossier,
    app: str,
    *,
    connection: Connection | None = None,
    addresses: Mapping[str, str] | None = None,
) -> list[SampleMessage]:
    """The address and subject of the message of a sample sales invoice, credit note,
    purchase invoice and purchase slip of the dossier, with the addresses given (the
    connection's for the others); refused as a connection with them would be."""
    preset = preset_of(app)
    given = {**(connection.addresses if connection else {}), **(addresses or {})}
    chosen = clean_addresses(preset, given)
    return [
        SampleMessage(
            kind=kind.value,
            kind_label=str(kind.label),
            address=chosen[preset.route(kind)],
            subject=subject(
                company=dossier.company.name, kind_label=str(kind.label), number=number
            ),
        )
        for kind, number in SAMPLES
    ]
