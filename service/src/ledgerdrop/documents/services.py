"""State changes of documents: each is one transaction with its audit row.

Documents written here go draft → issued (numbered, UBL and PDF built, validated and stored:
from then on their files never change) → sent → paid; the only edit after issue is a credit
note. Received documents are stored as they came, validated, and wait in the processing list
until approved (a registered purchase invoice) or rejected with a reason."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from ledgerdrop.accounts.models import Organisation, User
from ledgerdrop.core import audit, storage
from ledgerdrop.documents import addressee, bounds, building, validation
from ledgerdrop.documents.models import Document, DocumentLine, InvoicingProfile, NumberSequence
from ledgerdrop.documents.ubl import model as ubl
from ledgerdrop.documents.ubl.build import build_ubl
from ledgerdrop.documents.ubl.parse import parse_ubl
from ledgerdrop.documents.ubl.pdf import render_pdf
from ledgerdrop.documents.ubl.received import (
    embedded_pdf,
    read_fields,
    render_received_pdf,
    with_pdf,
)
from ledgerdrop.documents.ubl.report import ValidationReport
from ledgerdrop.documents.ubl.totals import round_amount


class DocumentError(Exception):
    """A change that cannot be made; `code` is stable, the message says what to do."""

    def __init__(self, code: str, message: str, report: ValidationReport | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.report = report


class OutOfRangeError(DocumentError):
    """Numbers beyond what a document holds (`bounds`), with one error per field."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__("out_of_range", " ".join(error["message"] for error in errors))
        self.errors = errors


@dataclass(frozen=True)
class CounterpartyInput:
    name: str
    vat_number: str = ""
    enterprise_number: str = ""
    street: str = ""
    postal_code: str = ""
    city: str = ""
    country: str = "BE"


@dataclass(frozen=True)
class LineInput:
    description: str
    quantity: Decimal
    unit_price: Decimal
    vat_rate: str = "21"
    exemption_reason: str = ""


@dataclass(frozen=True)
class DocumentInput:
    kind: Document.Kind
    issue_date: dt.date
    counterparty: CounterpartyInput
    lines: list[LineInput] = field(default_factory=list)
    due_date: dt.date | None = None
    currency: str = "EUR"
    note: str = ""
    iban: str = ""
    credited_document_id: int | None = None
    number: str = ""


MAX_AMOUNT = bounds.MAX_AMOUNT

SERIES_PREFIX = {
    Document.Kind.SALES_INVOICE: "F",
    Document.Kind.CREDIT_NOTE: "NC",
    Document.Kind.PURCHASE_SLIP: "BA",
}


def _credited(company: Organisation, data: DocumentInput) -> Document | None:
    if data.kind != Document.Kind.CREDIT_NOTE:
        if data.credited_document_id is not None:
            raise DocumentError("invalid", "Only a credit note refers to a credited invoice.")
        return None
    if data.credited_document_id is None:
        raise DocumentError("invalid", "A credit note must name the invoice it credits.")
    credited = company.documents.filter(pk=data.credited_document_id).first()
    if credited is None or not credited.can_be_credited:
        raise DocumentError(
            "invalid", "The credited document must be an issued sales invoice of this company."
        )
    return credited


def _apply(document: Document, data: DocumentInput) -> None:
    if data.kind not in Document.ISSUED_KINDS:
        raise DocumentError("invalid", f"Documents of kind {data.kind} are not written here.")
    if not data.lines:
        raise DocumentError("invalid", "A document needs at least one line.")
    party = data.counterparty
    if not party.name.strip():
        raise DocumentError("invalid", "The customer or supplier needs a name.")
    document.kind = data.kind
    document.issue_date = data.issue_date
    document.due_date = data.due_date
    document.currency = data.currency.strip().upper() or "EUR"
    document.note = data.note
    document.iban = re.sub(r"\s", "", data.iban).upper()
    document.counterparty_name = party.name.strip()
    document.counterparty_vat_number = party.vat_number.strip()
    document.counterparty_enterprise_number = party.enterprise_number.strip()
    document.counterparty_street = party.street.strip()
    document.counterparty_postal_code = party.postal_code.strip()
    document.counterparty_city = party.city.strip()
    document.counterparty_country = (party.country.strip() or "BE").upper()[:2]
    document.credited_document = _credited(document.company, data)


def _replace_lines(document: Document, lines: list[LineInput]) -> None:
    if errors := [
        error
        for index, line in enumerate(lines)
        for error in bounds.line_errors(index, line.quantity, line.unit_price)
    ]:
        raise OutOfRangeError(errors)
    rows = []
    for position, line in enumerate(lines, start=1):
        try:
            choice = building.vat_choice(line.vat_rate)
        except ubl.InvoiceDataError as error:
            raise DocumentError("invalid", f"Line {position}: {error}") from error
        rows.append(
            DocumentLine(
                document=document,
                position=position,
                description=line.description.strip(),
                quantity=line.quantity,
                unit_price=line.unit_price,
                vat_category=choice.category.value,
                vat_rate=choice.rate,
                exemption_reason=line.exemption_reason.strip(),
            )
        )
    try:
        totals = building.line_totals(rows)
    except ubl.InvoiceDataError as error:
        raise DocumentError("invalid", str(error)) from error
    if errors := bounds.amount_errors(
        (bounds.line_amount(line.quantity, line.unit_price) for line in lines),
        {
            "net_total": totals.tax_exclusive_amount,
            "vat_total": totals.tax_amount,
            "total": totals.payable_amount,
        },
    ):
        raise OutOfRangeError(errors)
    document.lines.all().delete()
    DocumentLine.objects.bulk_create(rows)
    document.net_total = totals.tax_exclusive_amount
    document.vat_total = totals.tax_amount
    document.total = totals.payable_amount
    document.save(update_fields=["net_total", "vat_total", "total"])


@transaction.atomic
def create_document(
    company: Organisation, data: DocumentInput, *, by: User | None, draft: bool = True
) -> Document:
    """A new sales invoice, credit note or purchase slip; issued at once unless `draft`."""
    if draft and data.number:
        raise DocumentError("invalid", "A draft has no number: it gets one when it is issued.")
    document = Document(company=company, status=Document.Status.DRAFT)
    _apply(document, data)
    document.save()
    _replace_lines(document, data.lines)
    audit.record(company, "document.drafted", document, actor=by, kind=document.kind)
    if not draft:
        return issue(document, by=by, number=data.number)
    return document


@transaction.atomic
def update_draft(document: Document, data: DocumentInput, *, by: User | None) -> Document:
    document = Document.objects.select_for_update().get(pk=document.pk)
    if not document.is_draft:
        raise DocumentError(
            "not_a_draft", "An issued document cannot change; issue a credit note instead."
        )
    _apply(document, data)
    document.save()
    _replace_lines(document, data.lines)
    audit.record(document.company, "document.edited", document, actor=by)
    return document


@transaction.atomic
def delete_draft(document: Document, *, by: User | None) -> None:
    if not document.is_draft:
        raise DocumentError("not_a_draft", "Only a draft can be deleted.")
    audit.record(document.company, "document.draft_deleted", document, actor=by)
    document.delete()


def _next_number(document: Document) -> tuple[int, str]:
    year = document.issue_date.year
    series = document.kind
    # Create the year's counter if needed without racing another issuer (ON CONFLICT DO
    # NOTHING), then lock it: on PostgreSQL the row lock serialises issuers of one series; on
    # SQLite the IMMEDIATE transaction already holds the database's write lock.
    NumberSequence.objects.bulk_create(
        [NumberSequence(company=document.company, series=series, year=year)],
        ignore_conflicts=True,
    )
    counter = NumberSequence.objects.select_for_update().get(
        company=document.company, series=series, year=year
    )
    counter.last += 1
    counter.save(update_fields=["last"])
    prefix = SERIES_PREFIX[Document.Kind(document.kind)]
    return counter.last, f"{prefix}{year}-{counter.last:04d}"


def _check_free_number(document: Document, number: str) -> None:
    taken = (
        Document.objects.filter(company=document.company, kind=document.kind, number=number)
        .exclude(pk=document.pk)
        .exists()
    )
    if taken:
        raise DocumentError("number_taken", f"The number {number} is already used.")


def _refused(report: ValidationReport) -> DocumentError:
    return DocumentError(
        "invalid_document",
        f"The document does not pass validation, so it was not kept: {report.summary}",
        report,
    )


@transaction.atomic
def issue(document: Document, *, by: User | None, number: str = "") -> Document:
    """Number the draft, build its PDF and its UBL (PDF inside), validate, store both files.

    Everything happens in one transaction: a document that cannot be built or does not
    validate is not issued and its number is given back, so the series has no gap."""
    document = Document.objects.select_for_update().get(pk=document.pk)
    if not document.is_draft:
        raise DocumentError("not_a_draft", "This document is already issued.")
    profile = building.profile_of(document.company)
    if number:
        _check_free_number(document, number)
        document.number = number
    else:
        document.sequence, document.number = _next_number(document)
        document.series = document.kind
        document.fiscal_year = document.issue_date.year
    if document.kind == Document.Kind.SALES_INVOICE and not document.payment_reference:
        # The structured reference carries the year and the number: unique within the company.
        base = document.issue_date.year * 10**6 + (document.sequence or document.pk) % 10**6
        document.payment_reference = ubl.ogm_from_number(base)
    if document.kind == Document.Kind.SALES_INVOICE and not document.iban:
        document.iban = profile.iban
    if document.due_date is None and document.kind != Document.Kind.CREDIT_NOTE:
        document.due_date = document.issue_date + dt.timedelta(days=building.DEFAULT_PAYMENT_DAYS)
    try:
        data = building.invoice_data(document, profile)
        pdf = render_pdf(data, profile.language or "fr")
        xml = build_ubl(data, pdf)
    except ubl.InvoiceDataError as error:
        raise DocumentError("invalid", str(error)) from error
    report = validation.validate(xml)
    if report.errors:
        raise _refused(report)
    ubl_blob, pdf_blob = storage.put(xml), storage.put(pdf)
    document.ubl_sha256, document.ubl_size = ubl_blob.sha256, ubl_blob.size
    document.pdf_sha256, document.pdf_size = pdf_blob.sha256, pdf_blob.size
    document.validation, document.validation_status = report.to_dict(), report.status
    document.status = Document.Status.ISSUED
    document.issued_at = timezone.now()
    document.save()
    audit.record(document.company, "document.issued", document, actor=by, number=document.number)
    return document


@transaction.atomic
def mark(document: Document, status: str, *, by: User | None) -> Document:
    """Mark an issued document sent or paid (S8 transfers it from then on)."""
    document = Document.objects.select_for_update().get(pk=document.pk)
    now = timezone.now()
    if status == Document.Status.SENT:
        if document.status == Document.Status.SENT:
            return document
        if not (document.kind in Document.ISSUED_KINDS and document.status == "issued"):
            raise DocumentError("wrong_status", "Only an issued document can be marked sent.")
        document.sent_at = now
    elif status == Document.Status.PAID:
        if document.status == Document.Status.PAID:
            return document
        if not document.can_be_marked:
            raise DocumentError(
                "wrong_status", "Only an issued or sent document can be marked paid."
            )
        document.paid_at = now
    else:
        raise DocumentError("invalid", "A document can be marked 'sent' or 'paid'.")
    document.status = status
    document.save(update_fields=["status", "sent_at", "paid_at"])
    audit.record(document.company, f"document.{status}", document, actor=by)
    return document


@transaction.atomic
def credit(invoice: Document, *, by: User | None) -> Document:
    """A draft credit note that cancels the whole invoice; edit its lines to credit part."""
    if not invoice.can_be_credited:
        raise DocumentError("wrong_status", "Only an issued sales invoice can be credited.")
    lines = [
        LineInput(
            description=row.description,
            quantity=row.quantity,
            unit_price=row.unit_price,
            vat_rate=building.vat_key(row.vat_category, row.vat_rate),
            exemption_reason=row.exemption_reason,
        )
        for row in invoice.lines.all()
    ]
    return create_document(
        invoice.company,
        DocumentInput(
            kind=Document.Kind.CREDIT_NOTE,
            issue_date=timezone.localdate(),
            counterparty=CounterpartyInput(
                name=invoice.counterparty_name,
                vat_number=invoice.counterparty_vat_number,
                enterprise_number=invoice.counterparty_enterprise_number,
                street=invoice.counterparty_street,
                postal_code=invoice.counterparty_postal_code,
                city=invoice.counterparty_city,
                country=invoice.counterparty_country,
            ),
            lines=lines,
            currency=invoice.currency,
            credited_document_id=invoice.pk,
        ),
        by=by,
    )


def _same_supplier(fields_vat: str, fields_enterprise: str, name: str) -> Q:
    if fields_vat:
        return Q(counterparty_vat_number__iexact=fields_vat)
    if fields_enterprise:
        return Q(counterparty_enterprise_number=fields_enterprise)
    return Q(counterparty_name__iexact=name)


def receive(
    company: Organisation,
    data: bytes,
    *,
    source: Document.Source,
    received_from: str = "",
    by: User | None = None,
    register: bool = False,
) -> Document:
    """Keep a received UBL document exactly as it came, with its validation report; refuse it
    (DocumentError with the report) when validation finds errors. `register` enters it as a
    purchase invoice directly (Purchases module), else it waits in the processing list."""
    report = validation.validate(data)
    if report.errors:
        raise _refused(report)
    tree = parse_ubl(data)
    fields = read_fields(tree)
    amounts = (fields.payable, fields.total, fields.net_total, fields.vat_total)
    if any(amount is not None and abs(amount) > MAX_AMOUNT for amount in amounts):
        raise DocumentError("invalid_document", "The amounts of this document are out of range.")
    addressed_to = addressee.addressed_elsewhere(company, fields)
    original = storage.put(data)
    pdf = fields.embedded_pdf
    accountant_copy = data
    if pdf is None:
        pdf = render_received_pdf(fields)
        filename = re.sub(r"[^A-Za-z0-9._-]+", "-", fields.number).strip("-") or "document"
        accountant_copy = with_pdf(tree, pdf, f"{filename}.pdf")
        if validation.validate(accountant_copy).errors:
            raise DocumentError("invalid_document", "The PDF could not be added to this file.")
    ubl_blob, pdf_blob = storage.put(accountant_copy), storage.put(pdf)
    # Validation and rendering above take milliseconds to a second of CPU: only the rows are
    # written under the database's write lock.
    with transaction.atomic():
        duplicate = (
            company.documents.filter(kind__in=Document.RECEIVED_KINDS, number=fields.number)
            .filter(
                _same_supplier(
                    fields.supplier_vat_number,
                    fields.supplier_enterprise_number,
                    fields.supplier_name,
                )
            )
            .order_by("id")
            .first()
        )
        now = timezone.now()
        document = Document.objects.create(
            company=company,
            kind=Document.Kind.PURCHASE_INVOICE if register else Document.Kind.INCOMING,
            status=Document.Status.APPROVED if register else Document.Status.RECEIVED,
            approved_at=now if register else None,
            number=fields.number[:64],
            issue_date=fields.issue_date or timezone.localdate(),
            due_date=fields.due_date,
            currency=fields.currency[:3] or "EUR",
            total=round_amount(
                fields.payable if fields.payable is not None else (fields.total or Decimal(0))
            ),
            net_total=round_amount(fields.net_total or Decimal(0)),
            vat_total=round_amount(fields.vat_total or Decimal(0)),
            counterparty_name=fields.supplier_name[:200],
            counterparty_vat_number=fields.supplier_vat_number[:32],
            counterparty_enterprise_number=fields.supplier_enterprise_number[:16],
            payment_reference=re.sub(r"\D", "", fields.payment_reference)[:12],
            iban=fields.iban[:34],
            source=source,
            received_from=received_from[:254],
            source_sha256=original.sha256,
            source_size=original.size,
            ubl_sha256=ubl_blob.sha256,
            ubl_size=ubl_blob.size,
            pdf_sha256=pdf_blob.sha256,
            pdf_size=pdf_blob.size,
            pdf_rendered_here=fields.embedded_pdf is None,
            duplicate_of=duplicate,
            validation=report.to_dict(),
            validation_status=report.status,
            addressed_to=addressed_to,
        )
        audit.record(
            company,
            "document.registered" if register else "document.received",
            document,
            actor=by,
            source=source,
            number=document.number,
            duplicate_of=duplicate.pk if duplicate else None,
            addressed_to=addressed_to or None,
        )
        return document


@transaction.atomic
def approve(document: Document, *, by: User | None) -> Document:
    """Register an incoming purchase document as a purchase invoice (S8 transfers it)."""
    document = Document.objects.select_for_update().get(pk=document.pk)
    if document.kind == Document.Kind.PURCHASE_INVOICE:
        return document
    if not document.awaits_decision:
        raise DocumentError("wrong_status", "Only an incoming document awaiting a decision.")
    document.kind = Document.Kind.PURCHASE_INVOICE
    document.status = Document.Status.APPROVED
    document.approved_at = timezone.now()
    document.save(update_fields=["kind", "status", "approved_at"])
    audit.record(document.company, "document.approved", document, actor=by)
    return document


@transaction.atomic
def confirm_addressee(document: Document, *, by: User | None) -> Document:
    """Somebody of the company confirms that a document naming another company as its buyer is
    the company's own anyway: from now on it is sent to the accountant like any other."""
    document = Document.objects.select_for_update().get(pk=document.pk)
    if not document.addressed_to:
        raise DocumentError(
            "wrong_status",
            _("This document is addressed to the company: there is nothing to confirm."),
        )
    if document.addressee_confirmed_at is not None:
        return document
    document.addressee_confirmed_at = timezone.now()
    document.save(update_fields=["addressee_confirmed_at"])
    audit.record(
        document.company,
        "document.addressee_confirmed",
        document,
        actor=by,
        addressed_to=document.addressed_to,
    )
    return document


@transaction.atomic
def reject(document: Document, reason: str, *, by: User | None) -> Document:
    """Keep the document, out of the processing list, with the reason it was refused."""
    document = Document.objects.select_for_update().get(pk=document.pk)
    if not document.awaits_decision:
        raise DocumentError("wrong_status", "Only an incoming document awaiting a decision.")
    if not reason.strip():
        raise DocumentError("invalid", "Say why the document is rejected.")
    document.status = Document.Status.REJECTED
    document.rejected_at = timezone.now()
    document.rejection_reason = reason.strip()
    document.save(update_fields=["status", "rejected_at", "rejection_reason"])
    audit.record(document.company, "document.rejected", document, actor=by, reason=reason)
    return document


@transaction.atomic
def update_profile(
    profile: InvoicingProfile, changes: dict[str, Any], *, by: User | None
) -> InvoicingProfile:
    """What the company prints on the documents it issues from now on (issued ones keep theirs)."""
    for name, value in changes.items():
        setattr(profile, name, value)
    profile.save()
    audit.record(profile.company, "invoicing_profile.updated", profile, actor=by, **changes)
    return profile


@transaction.atomic
def store_issued_document(
    company: Organisation,
    *,
    kind: Document.Kind,
    number: str,
    issue_date: dt.date,
    ubl: bytes,
    total: Decimal = Decimal(0),
    counterparty_name: str = "",
    status: Document.Status = Document.Status.ISSUED,
    by: User | None = None,
) -> Document:
    """Keep a finished document made elsewhere (an import, the demo), by hash so it never
    changes. Documents written here go through `create_document` and `issue` instead."""
    blob = storage.put(ubl)
    pdf = embedded_pdf(parse_ubl(ubl).getroot())
    pdf_blob = storage.put(pdf) if pdf is not None else None
    document = Document.objects.create(
        company=company,
        kind=kind,
        status=status,
        number=number,
        issue_date=issue_date,
        total=total,
        counterparty_name=counterparty_name,
        ubl_sha256=blob.sha256,
        ubl_size=blob.size,
        pdf_sha256=pdf_blob.sha256 if pdf_blob else "",
        pdf_size=pdf_blob.size if pdf_blob else 0,
        source=Document.Source.MANUAL if kind in Document.RECEIVED_KINDS else "issued",
    )
    audit.record(company, "document.stored", document, actor=by, kind=kind, number=number)
    return document
