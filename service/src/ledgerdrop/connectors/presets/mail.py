"""The e-mail presets' messages: the addresses a connection takes, what a document's message
says and carries, and handing it to the SMTP server of the service's settings. Nothing here
changes state: `services` records what the receiving server answered."""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from email.utils import parseaddr

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from ledgerdrop.connectors.presets.catalogue import ADDRESS_LABELS, Preset
from ledgerdrop.core.errors import Kind, ServiceError


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
        return Outcome(
            accepted=False,
            temporary=True,
            answer=_("No answer from the mail server %(host)s:%(port)s (%(error)s).")
            % {"host": connection.host, "port": connection.port, "error": unreachable},
        )
