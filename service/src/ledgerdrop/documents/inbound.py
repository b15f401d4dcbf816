"""Where received documents come from: which company a PEPPOL hand-off or an e-mail is for,
and what becomes of each attachment of an e-mail. The state change itself is
`services.receive`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default as default_policy

from django.conf import settings
from django.core.mail import send_mail
from django.db.models import Q

from ledgerdrop.accounts.models import Organisation
from ledgerdrop.core.errors import Kind, ServiceError
from ledgerdrop.documents import services
from ledgerdrop.documents.models import Document, InvoicingProfile
from ledgerdrop.documents.ubl.parse import RefusedXmlError, parse_ubl
from ledgerdrop.documents.ubl.received import read_fields
from ledgerdrop.documents.ubl.report import Finding, ValidationReport

MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024


def _unknown_receiver(message: str) -> ServiceError:
    """No company here has the address the document was sent to."""
    return ServiceError("unknown_receiver", message, Kind.INVALID, title="Unknown receiver")


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value)


def company_for_endpoint(scheme: str, identifier: str) -> Organisation:
    """The company a PEPPOL document is addressed to: `0208` enterprise number or `9925` VAT."""
    digits = _digits(identifier)
    if scheme not in {"0208", "9925"} or len(digits) != 10:
        raise _unknown_receiver(
            f"The receiver {scheme}:{identifier} is not a Belgian enterprise or VAT number "
            "(schemes 0208 and 9925)."
        )
    # VAT numbers are kept as typed ("BE0403.019.261", "BE 0403 019 261"…): the last three
    # digits stay together in every usual spelling, so they narrow the search, and the digits
    # decide. Enterprise and Belgian VAT numbers share their ten digits: either scheme finds
    # the same company.
    candidates = Organisation.objects.filter(kind=Organisation.Kind.COMPANY).filter(
        Q(invoicing_profile__enterprise_number=digits) | Q(vat_number__icontains=digits[-3:])
    )
    matches = [
        company
        for company in candidates
        if _digits(company.vat_number).rjust(10, "0") == digits
        or _enterprise_number(company) == digits
    ]
    if len(matches) != 1:
        raise _unknown_receiver(
            f"No company on this server has the PEPPOL address {scheme}:{digits}."
        )
    return matches[0]


def _enterprise_number(company: Organisation) -> str:
    profile = InvoicingProfile.objects.filter(company=company).first()
    return profile.enterprise_number if profile else ""


def refusal_report(refusal: RefusedXmlError) -> ValidationReport:
    return ValidationReport(
        findings=(Finding("xml", refusal.code, "fatal", str(refusal)),), layers_run=("xml",)
    )


def receive_from_peppol(data: bytes) -> Document:
    """The access point's hand-off: route by the buyer's endpoint, then keep the document."""
    try:
        fields = read_fields(parse_ubl(data))
    except RefusedXmlError as refusal:
        raise services.invalid_document(str(refusal), refusal_report(refusal)) from refusal
    company = company_for_endpoint(*fields.buyer_endpoint)
    return services.receive(company, data, source=Document.Source.PEPPOL, received_from="PEPPOL")


def inbox_address(company: Organisation) -> str:
    profile, _ = InvoicingProfile.objects.get_or_create(company=company)
    return f"{profile.inbox_key}@{settings.LEDGERDROP_INBOUND_EMAIL_DOMAIN}"


def company_for_address(address: str) -> Organisation | None:
    local = address.strip().strip("<>").rsplit("@", 1)[0].lower()
    profile = InvoicingProfile.objects.select_related("company").filter(inbox_key=local).first()
    return profile.company if profile else None


@dataclass
class MailOutcome:
    received: list[Document] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)


def _attachments(message: EmailMessage) -> list[tuple[str, bytes]]:
    found = []
    for part in message.walk():
        if part.is_multipart():
            continue
        filename = part.get_filename()
        if filename is None and part.get_content_disposition() != "attachment":
            continue
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            found.append((filename or "attachment", payload))
    return found


def receive_mail(company: Organisation, raw: bytes, sender: str) -> MailOutcome:
    """Take every UBL attachment of an e-mail; everything else is listed back to the sender."""
    message = BytesParser(policy=default_policy).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    outcome = MailOutcome()
    attachments = _attachments(message)
    if not attachments:
        outcome.refused.append(("(message)", "The e-mail has no attachment."))
    for filename, payload in attachments:
        if len(payload) > MAX_ATTACHMENT_BYTES:
            outcome.refused.append((filename, "The file is too large for an invoice."))
            continue
        try:
            parse_ubl(payload)
        except RefusedXmlError as refusal:
            outcome.refused.append((filename, f"Not a UBL invoice or credit note: {refusal}"))
            continue
        try:
            document = services.receive(
                company, payload, source=Document.Source.EMAIL, received_from=sender
            )
        except ServiceError as error:
            outcome.refused.append((filename, error.message))
        else:
            outcome.received.append(document)
    if outcome.refused and sender:
        _report_back(company, sender, message.get("Subject", ""), outcome)
    return outcome


def _report_back(company: Organisation, sender: str, subject: str, outcome: MailOutcome) -> None:
    lines = [
        f"Your e-mail to {company.name} was received by Ledgerdrop.",
        "",
        *(f"Accepted: {d.number or 'document'} ({d.counterparty_name})" for d in outcome.received),
        *(f"Not accepted: {name}: {reason}" for name, reason in outcome.refused),
        "",
        "Only PEPPOL BIS 3.0 UBL invoices and credit notes (XML) are taken from e-mails.",
    ]
    send_mail(
        f"Re: {subject}".strip() if subject else "Your documents",
        "\n".join(lines),
        None,
        [sender],
    )
