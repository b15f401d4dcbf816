"""State changes of documents: each is one transaction with its audit row.

Documents written here go draft → issued (numbered, UBL and PDF built, validated and stored:
from then on their files never change) → sent → paid; the only edit after issue is a credit
note. Received documents are stored as they came, validated, and wait in the processing list
until approved (a registered purchase invoice) or rejected with a reason."""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pycountry
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from ledgerdrop.accounts import audit
from ledgerdrop.accounts.models import Organisation, User
from ledgerdrop.core import storage
from ledgerdrop.core.errors import Kind, ServiceError
from ledgerdrop.documents import addressee, bounds, findings, peppol_validator, to_ubl
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


def translated(error: ubl.InvoiceDataError) -> str:
    """The `ubl` package's message in the user's language."""
    return _(error.template) % error.params if error.params else _(error.template)


def _out_of_range(errors: list[dict[str, str]]) -> ServiceError:
    """Numbers beyond what a document holds (`bounds`), with one error per field."""
    return ServiceError(
        "out_of_range",
        " ".join(error["message"] for error in errors),
        Kind.INVALID,
        title="Out of range",
        errors=errors,
    )


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
    eur_rate: Decimal | None = None
    note: str = ""
    iban: str = ""
    credited_document_id: int | None = None
    number: str = ""


MAX_AMOUNT = bounds.MAX_AMOUNT
# EUR per unit of a foreign currency, in the column's 10 digits and 6 decimals.
MAX_EUR_RATE = Decimal(10) ** 9
EUR_RATE_STEP = Decimal("0.000001")

SERIES_PREFIX = {
    Document.Kind.SALES_INVOICE: "F",
    Document.Kind.CREDIT_NOTE: "NC",
    Document.Kind.PURCHASE_SLIP: "BA",
}


def _credited(company: Organisation, data: DocumentInput) -> Document | None:
    if data.kind != Document.Kind.CREDIT_NOTE:
        if data.credited_document_id is not None:
            raise ServiceError(
                "invalid", _("Only a credit note refers to a credited invoice."), Kind.INVALID
            )
        return None
    if data.credited_document_id is None:
        raise ServiceError(
            "invalid", _("A credit note must name the invoice it credits."), Kind.INVALID
        )
    credited = company.documents.filter(pk=data.credited_document_id).first()
    if credited is None or not credited.can_be_credited:
        raise ServiceError(
            "invalid",
            _("The credited document must be an issued sales invoice of this company."),
            Kind.INVALID,
        )
    return credited


def _currency(code: str, eur_rate: Decimal | None) -> tuple[str, Decimal | None]:
    currency = code.strip().upper() or "EUR"
    if pycountry.currencies.get(alpha_3=currency) is None:
        raise ServiceError(
            "invalid",
            _("%(currency)s is not a currency code: use three letters such as EUR, USD or GBP.")
            % {"currency": code},
            Kind.INVALID,
        )
    if currency == "EUR":
        # A euro document states no exchange rate (PEPPOL-EN16931-R005): a stray one is dropped.
        return currency, None
    if eur_rate is not None and eur_rate.is_finite() and abs(eur_rate) < MAX_EUR_RATE:
        # Six decimals, as stored: the rate the UBL states is the one kept with the document.
        # (A rate beyond the bound would not fit six decimals: it is refused just below.)
        eur_rate = eur_rate.quantize(EUR_RATE_STEP, rounding=ROUND_HALF_UP)
    if eur_rate is None or not eur_rate.is_finite() or not 0 < eur_rate < MAX_EUR_RATE:
        raise ServiceError(
            "invalid",
            _(
                "A document in %(currency)s needs its exchange rate: how many euros one"
                " %(currency)s is worth (eur_rate), so that its VAT can be stated in euro."
            )
            % {"currency": currency},
            Kind.INVALID,
        )
    return currency, eur_rate


def _country(code: str) -> str:
    country = code.strip().upper() or "BE"
    if pycountry.countries.get(alpha_2=country) is None:
        raise ServiceError(
            "invalid",
            _("%(country)s is not a country code: use two letters such as BE, FR or US.")
            % {"country": code},
            Kind.INVALID,
        )
    return country


def _apply(document: Document, data: DocumentInput) -> None:
    if data.kind not in Document.ISSUED_KINDS:
        raise ServiceError(
            "invalid",
            _("Documents of kind %(kind)s are not written here.") % {"kind": data.kind},
            Kind.INVALID,
        )
    if not data.lines:
        raise ServiceError("invalid", _("A document needs at least one line."), Kind.INVALID)
    party = data.counterparty
    if not party.name.strip():
        raise ServiceError("invalid", _("The customer or supplier needs a name."), Kind.INVALID)
    document.kind = data.kind
    document.issue_date = data.issue_date
    document.due_date = data.due_date
    document.currency, document.eur_rate = _currency(data.currency, data.eur_rate)
    document.note = data.note
    document.iban = re.sub(r"\s", "", data.iban).upper()
    document.counterparty_name = party.name.strip()
    document.counterparty_vat_number = party.vat_number.strip()
    document.counterparty_enterprise_number = party.enterprise_number.strip()
    document.counterparty_street = party.street.strip()
    document.counterparty_postal_code = party.postal_code.strip()
    document.counterparty_city = party.city.strip()
    document.counterparty_country = _country(party.country)
    document.credited_document = _credited(document.company, data)


def _line_rows(document: Document, lines: list[LineInput]) -> list[DocumentLine]:
    """The document's lines, checked (bounds, VAT choices, totals) but not saved yet."""
    if errors := [
        error
        for index, line in enumerate(lines)
        for error in bounds.line_errors(index, line.quantity, line.unit_price)
    ]:
        raise _out_of_range(errors)
    rows = []
    for position, line in enumerate(lines, start=1):
        try:
            choice = to_ubl.vat_choice(line.vat_rate)
        except ubl.InvoiceDataError as error:
            raise ServiceError(
                "invalid",
                _("Line %(position)s: %(error)s")
                % {"position": position, "error": translated(error)},
                Kind.INVALID,
            ) from error
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
        totals = to_ubl.line_totals(rows)
    except ubl.InvoiceDataError as error:
        raise ServiceError("invalid", translated(error), Kind.INVALID) from error
    if errors := bounds.amount_errors(
        (bounds.line_amount(line.quantity, line.unit_price) for line in lines),
        {
            "net_total": totals.tax_exclusive_amount,
            "vat_total": totals.tax_amount,
            "total": totals.payable_amount,
        },
    ):
        raise _out_of_range(errors)
    return rows


def _store_lines(document: Document, rows: list[DocumentLine]) -> None:
    totals = to_ubl.line_totals(rows)
    document.lines.all().delete()
    for row in rows:
        row.document = document  # saved by now
    DocumentLine.objects.bulk_create(rows)
    document.net_total = totals.tax_exclusive_amount
    document.vat_total = totals.tax_amount
    document.total = totals.payable_amount
    document.save(update_fields=["net_total", "vat_total", "total"])


def create_document(
    company: Organisation, data: DocumentInput, *, by: User | None, draft: bool = True
) -> Document:
    """A new sales invoice, credit note or purchase slip; issued at once unless `draft`, and
    then kept only if it can be issued."""
    if draft and data.number:
        raise ServiceError(
            "invalid", _("A draft has no number: it gets one when it is issued."), Kind.INVALID
        )
    document = Document(company=company, status=Document.Status.DRAFT)
    _apply(document, data)
    rows = _line_rows(document, data.lines)
    if draft:
        with transaction.atomic():
            return _save_draft(document, rows, by=by)
    _require_invoicing_details(document, rows)
    with _series_lane(document):
        prepared = _prepared(document, rows, data.number)
        with transaction.atomic():
            _save_draft(document, rows, by=by)
            return _issue_locked(document, rows, number=data.number, by=by, prepared=prepared)


def _save_draft(document: Document, rows: list[DocumentLine], *, by: User | None) -> Document:
    document.save()
    _store_lines(document, rows)
    audit.record(document.company, "document.drafted", document, actor=by, kind=document.kind)
    return document


@transaction.atomic
def update_draft(document: Document, data: DocumentInput, *, by: User | None) -> Document:
    document = Document.objects.select_for_update().get(pk=document.pk)
    if not document.is_draft:
        raise ServiceError(
            "not_a_draft",
            _("An issued document cannot change; issue a credit note instead."),
            Kind.CONFLICT,
        )
    _apply(document, data)
    document.save()
    _store_lines(document, _line_rows(document, data.lines))
    audit.record(document.company, "document.edited", document, actor=by)
    return document


@transaction.atomic
def delete_draft(document: Document, *, by: User | None) -> None:
    if not document.is_draft:
        raise ServiceError("not_a_draft", _("Only a draft can be deleted."), Kind.CONFLICT)
    audit.record(document.company, "document.draft_deleted", document, actor=by)
    document.delete()


def _claim_sequence(document: Document) -> int:
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
    return counter.last


def _peek_sequence(document: Document) -> int:
    """The sequence number the series gives next, if no one else takes it first."""
    last = (
        NumberSequence.objects.filter(
            company=document.company, series=document.kind, year=document.issue_date.year
        )
        .values_list("last", flat=True)
        .first()
    )
    return (last or 0) + 1


def _number(
    document: Document, profile: InvoicingProfile, *, number: str, sequence: int | None
) -> None:
    """The number of an issued document and the defaults it gets with it."""
    if number:
        document.number = number
    else:
        assert sequence is not None
        prefix = SERIES_PREFIX[Document.Kind(document.kind)]
        document.sequence = sequence
        document.number = f"{prefix}{document.issue_date.year}-{sequence:04d}"
        document.series = document.kind
        document.fiscal_year = document.issue_date.year
    if document.kind == Document.Kind.SALES_INVOICE and not document.payment_reference:
        # The structured reference carries the year and the number: unique within the company.
        base = document.issue_date.year * 10**6 + (document.sequence or document.pk) % 10**6
        document.payment_reference = ubl.ogm_from_number(base)
    if document.kind == Document.Kind.SALES_INVOICE and not document.iban:
        document.iban = profile.iban
    if document.due_date is None and document.kind != Document.Kind.CREDIT_NOTE:
        document.due_date = document.issue_date + dt.timedelta(days=to_ubl.DEFAULT_PAYMENT_DAYS)


def _check_free_number(document: Document, number: str) -> None:
    taken = (
        Document.objects.filter(company=document.company, kind=document.kind, number=number)
        .exclude(pk=document.pk)
        .exists()
    )
    if taken:
        raise ServiceError(
            "number_taken",
            _("The number %(number)s is already used.") % {"number": number},
            Kind.INVALID,
        )


def _refused(report: ValidationReport) -> ServiceError:
    return invalid_document(
        _("The document does not pass validation, so it was not kept: %(summary)s")
        % {"summary": findings.report_summary(report)},
        report,
    )


def invalid_document(message: str, report: ValidationReport) -> ServiceError:
    """The validation's errors, each with its layer and a summary a person can act on."""
    return ServiceError(
        "invalid_document",
        message,
        Kind.INVALID,
        title="The document is not valid",
        errors=[
            {
                "field": finding.location,
                "message": f"{finding.rule_id}: {finding.message}",
                "layer": finding.layer,
                "summary": findings.summary(finding.rule_id, finding.layer),
            }
            for finding in report.errors
        ],
    )


@dataclass(frozen=True)
class _Files:
    data: ubl.InvoiceData  # what they were built from
    ubl: storage.Blob
    pdf: storage.Blob
    report: ValidationReport


def _require_invoicing_details(document: Document, rows: list[DocumentLine]) -> None:
    """A company issues only once its own address (and IBAN, when the document asks to be
    paid) is known: the first issue sends the user to *Invoicing details* with what is missing."""
    document.total = to_ubl.line_totals(rows).payable_amount
    missing = to_ubl.missing_invoicing_details(document, to_ubl.profile_of(document.company))
    if missing:
        names = {name: str(label) for name, label in missing.items()}
        raise ServiceError(
            "invoicing_details_missing",
            _(
                "Before issuing, fill in the company's invoicing details"
                " (Invoicing details): %(missing)s."
            )
            % {"missing": ", ".join(names.values())},
            Kind.CONFLICT,
            errors=[{"field": name, "message": label} for name, label in names.items()],
        )


def _build(document: Document, rows: list[DocumentLine], profile: InvoicingProfile) -> _Files:
    """The PDF and the UBL (PDF inside), validated and stored; ServiceError if they cannot be
    built or do not validate."""
    try:
        data = to_ubl.invoice_data(document, profile, rows)
        pdf = render_pdf(data, profile.language or "fr")
        xml = build_ubl(data, pdf)
    except ubl.InvoiceDataError as error:
        raise ServiceError("invalid", translated(error), Kind.INVALID) from error
    report = peppol_validator.validate(xml)
    if report.errors:
        raise _refused(report)
    return _Files(data, storage.put(xml), storage.put(pdf), report)


def _prepared(document: Document, rows: list[DocumentLine], number: str) -> _Files | None:
    """The files built ahead, before the transaction opens, for the number the series will
    give next: the transaction then holds the database (SQLite's one write lock) for the rows
    only. None inside a caller's transaction, which holds the lock anyway, and for a new
    document given its own number (its payment reference needs the row's id)."""
    if transaction.get_connection().in_atomic_block or (number and document.pk is None):
        return None
    ahead = copy.copy(document)
    profile = to_ubl.profile_of(document.company)
    _number(ahead, profile, number=number, sequence=None if number else _peek_sequence(ahead))
    return _build(ahead, rows, profile)


# Issuers of one series in this process take turns (a few stripes, shared by hash), so that
# the number each builds its files for is still free when it commits.
_SERIES_LANES = [threading.Lock() for _ in range(64)]


@contextlib.contextmanager
def _series_lane(document: Document) -> Iterator[None]:
    if transaction.get_connection().in_atomic_block:
        # Waiting here while holding the database's write lock could deadlock with the
        # holder of the lane waiting for that lock.
        yield
        return
    key = (document.company_id, document.kind, document.issue_date.year)
    with _SERIES_LANES[hash(key) % len(_SERIES_LANES)]:
        yield


def issue(document: Document, *, by: User | None, number: str = "") -> Document:
    """Number the draft, build its PDF and its UBL (PDF inside), validate, store both files.

    A document that cannot be built or does not validate is not issued and its number is
    given back, so the series has no gap. The files are built ahead for the number the series
    will give next; if another process took it in between (or the draft changed), they are
    built again inside the transaction."""
    draft = Document.objects.get(pk=document.pk)
    if not draft.is_draft:
        raise ServiceError("not_a_draft", _("This document is already issued."), Kind.CONFLICT)
    _require_invoicing_details(draft, list(draft.lines.all()))
    with _series_lane(draft):
        prepared = _prepared(draft, list(draft.lines.all()), number)
        with transaction.atomic():
            document = Document.objects.select_for_update().get(pk=document.pk)
            if not document.is_draft:
                raise ServiceError(
                    "not_a_draft", _("This document is already issued."), Kind.CONFLICT
                )
            rows = list(document.lines.all())
            return _issue_locked(document, rows, number=number, by=by, prepared=prepared)


def _issue_locked(
    document: Document,
    rows: list[DocumentLine],
    *,
    number: str,
    by: User | None,
    prepared: _Files | None,
) -> Document:
    profile = to_ubl.profile_of(document.company)
    if number:
        _check_free_number(document, number)
        _number(document, profile, number=number, sequence=None)
    else:
        _number(document, profile, number="", sequence=_claim_sequence(document))
    files = prepared
    if files is None or files.data != to_ubl.invoice_data(document, profile, rows):
        files = _build(document, rows, profile)
    document.ubl_sha256, document.ubl_size = files.ubl.sha256, files.ubl.size
    document.pdf_sha256, document.pdf_size = files.pdf.sha256, files.pdf.size
    document.validation, document.validation_status = files.report.to_dict(), files.report.status
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
            raise ServiceError(
                "wrong_status", _("Only an issued document can be marked sent."), Kind.CONFLICT
            )
        document.sent_at = now
    elif status == Document.Status.PAID:
        if document.status == Document.Status.PAID:
            return document
        if not document.can_be_marked:
            raise ServiceError(
                "wrong_status",
                _("Only an issued or sent document can be marked paid."),
                Kind.CONFLICT,
            )
        document.paid_at = now
    else:
        raise ServiceError("invalid", _("A document can be marked 'sent' or 'paid'."), Kind.INVALID)
    document.status = status
    document.save(update_fields=["status", "sent_at", "paid_at"])
    audit.record(document.company, f"document.{status}", document, actor=by)
    return document


@transaction.atomic
def credit(invoice: Document, *, by: User | None) -> Document:
    """A draft credit note that cancels the whole invoice; edit its lines to credit part."""
    if not invoice.can_be_credited:
        raise ServiceError(
            "wrong_status", _("Only an issued sales invoice can be credited."), Kind.CONFLICT
        )
    lines = [
        LineInput(
            description=row.description,
            quantity=row.quantity,
            unit_price=row.unit_price,
            vat_rate=to_ubl.vat_key(row.vat_category, row.vat_rate),
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
    (ServiceError with the validation's errors) when validation finds errors. `register` enters
    it as a purchase invoice directly (Purchases module), else it waits in the processing list."""
    report = peppol_validator.validate(data)
    if report.errors:
        raise _refused(report)
    tree = parse_ubl(data)
    fields = read_fields(tree)
    amounts = (fields.payable, fields.total, fields.net_total, fields.vat_total)
    if any(amount is not None and abs(amount) > MAX_AMOUNT for amount in amounts):
        raise ServiceError(
            "invalid_document", _("The amounts of this document are out of range."), Kind.INVALID
        )
    addressed_to = addressee.addressed_elsewhere(company, fields)
    original = storage.put(data)
    pdf = fields.embedded_pdf
    accountant_copy = data
    if pdf is None:
        pdf = render_received_pdf(fields)
        filename = re.sub(r"[^A-Za-z0-9._-]+", "-", fields.number).strip("-") or "document"
        accountant_copy = with_pdf(tree, pdf, f"{filename}.pdf")
        if peppol_validator.validate(accountant_copy).errors:
            raise ServiceError(
                "invalid_document", _("The PDF could not be added to this file."), Kind.INVALID
            )
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
        raise ServiceError(
            "wrong_status", _("Only an incoming document awaiting a decision."), Kind.CONFLICT
        )
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
        raise ServiceError(
            "wrong_status",
            _("This document is addressed to the company: there is nothing to confirm."),
            Kind.CONFLICT,
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
        raise ServiceError(
            "wrong_status", _("Only an incoming document awaiting a decision."), Kind.CONFLICT
        )
    if not reason.strip():
        raise ServiceError("invalid", _("Say why the document is rejected."), Kind.INVALID)
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
