"""Reading documents for the API and the pages: scoped lookups, filters, JSON shapes and file
downloads. Changes nothing."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

from django.db.models import Q, QuerySet
from django.http import FileResponse, Http404

from ledgerdrop.accounts.models import Organisation
from ledgerdrop.core import storage
from ledgerdrop.documents import services, slots, to_ubl
from ledgerdrop.documents.models import Document
from ledgerdrop.documents.ubl.model import format_ogm
from ledgerdrop.documents.ubl.parse import parse_ubl
from ledgerdrop.documents.ubl.received import read_fields


def document_of(company: Organisation, document_id: int) -> Document:
    document = (
        Document.objects.filter(company=company, pk=document_id)
        .select_related("credited_document", "duplicate_of")
        .prefetch_related("lines")
        .first()
    )
    if document is None:
        raise Http404("No such document in this company.")
    return document


def document_of_dossier(firm: Organisation, document_id: int) -> Document:
    """A document of one of the firm's client companies: only through a dossier link the
    company made, and never a draft the company is still writing."""
    document = (
        Document.objects.filter(pk=document_id, company__accountant_links__firm=firm)
        .exclude(status=Document.Status.DRAFT)
        .select_related("company", "credited_document", "duplicate_of")
        .prefetch_related("lines")
        .first()
    )
    if document is None:
        raise Http404("No such document in the firm's dossiers.")
    return document


def received_lines(document: Document) -> list[Any]:
    """The lines of a received document, read from its UBL (only documents written here keep
    their lines in rows)."""
    if not document.is_received or not document.ubl_sha256:
        return []
    return list(read_fields(parse_ubl(storage.read(document.ubl_sha256))).lines)


def overview(
    company: Organisation,
    *,
    kind: str = "",
    status: str = "",
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> QuerySet[Document]:
    documents = company.documents.all()
    if kind in Document.Kind.values:
        documents = documents.filter(kind=kind)
    elif kind == "sales":
        documents = documents.filter(kind__in=Document.SALES_KINDS)
    elif kind == "purchases":
        documents = documents.exclude(kind__in=Document.SALES_KINDS)
    if status in Document.Status.values:
        documents = documents.filter(status=status)
    if date_from:
        documents = documents.filter(issue_date__gte=date_from)
    if date_to:
        documents = documents.filter(issue_date__lte=date_to)
    return documents


def processing_list(company: Organisation) -> QuerySet[Document]:
    """Incoming documents still waiting for approval or rejection, and received documents
    addressed to another company still waiting for the company to confirm them, oldest first."""
    waiting = Q(kind=Document.Kind.INCOMING, status=Document.Status.RECEIVED)
    unconfirmed = Q(addressee_confirmed_at__isnull=True) & ~Q(addressed_to="")
    return (
        company.documents.filter(waiting | unconfirmed)
        .exclude(status=Document.Status.REJECTED)
        .order_by("created_at", "id")
        .select_related("duplicate_of")
    )


def row(document: Document, transfer: slots.Transfer | None = None) -> dict[str, Any]:
    """A document in a list; `transfer` when the list's transfers were read in one go."""
    return {
        "id": document.pk,
        "kind": document.kind,
        "number": document.number,
        "issue_date": document.issue_date,
        "status": document.status,
        "total": document.total,
        "currency": document.currency,
        "counterparty_name": document.counterparty_name,
        "accountant_transfer": (transfer or slots.transfer_of(document)).as_json(),
    }


def rows(documents: Iterable[Document]) -> list[dict[str, Any]]:
    documents = list(documents)
    transfers = slots.transfers(documents)
    return [row(document, transfers.get(document.pk, slots.NOT_SENT)) for document in documents]


def _file(document: Document, which: str) -> dict[str, Any] | None:
    sha256 = document.ubl_sha256 if which == "ubl" else document.pdf_sha256
    size = document.ubl_size if which == "ubl" else document.pdf_size
    if not sha256:
        return None
    path = f"/api/v1/companies/{document.company_id}/documents/{document.pk}/{which}"
    return {"sha256": sha256, "size": size, "url": path}


def detail(document: Document) -> dict[str, Any]:
    return {
        **row(document),
        "due_date": document.due_date,
        "eur_rate": document.eur_rate,
        "net_total": document.net_total,
        "vat_total": document.vat_total,
        "counterparty": {
            "name": document.counterparty_name,
            "vat_number": document.counterparty_vat_number,
            "enterprise_number": document.counterparty_enterprise_number,
            "address": {
                "street": document.counterparty_street,
                "postal_code": document.counterparty_postal_code,
                "city": document.counterparty_city,
                "country": document.counterparty_country,
            },
        },
        "lines": [
            {
                "description": line.description,
                "quantity": line.quantity.normalize(),
                "unit_price": line.unit_price.normalize(),
                "vat_rate": to_ubl.vat_key(line.vat_category, line.vat_rate),
                "net_amount": line.net_amount,
                "exemption_reason": line.exemption_reason,
            }
            for line in document.lines.all()
        ],
        "credited_document_id": document.credited_document_id,
        "payment_reference": (
            format_ogm(document.payment_reference) if document.payment_reference else ""
        ),
        "iban": document.iban,
        "note": document.note,
        "issued_at": document.issued_at,
        "sent_at": document.sent_at,
        "paid_at": document.paid_at,
        "approved_at": document.approved_at,
        "rejected_at": document.rejected_at,
        "rejection_reason": document.rejection_reason,
        "source": document.source,
        "received_from": document.received_from,
        "duplicate_of": document.duplicate_of_id,
        "addressed_to": document.addressed_to or None,
        "addressee_confirmed_at": document.addressee_confirmed_at,
        "validation": document.validation or None,
        "ubl": _file(document, "ubl"),
        "pdf": _file(document, "pdf"),
    }


def as_input(document: Document) -> services.DocumentInput:
    """A draft's current content, for a partial edit."""
    return services.DocumentInput(
        kind=Document.Kind(document.kind),
        issue_date=document.issue_date,
        due_date=document.due_date,
        currency=document.currency,
        eur_rate=document.eur_rate,
        counterparty=services.CounterpartyInput(
            name=document.counterparty_name,
            vat_number=document.counterparty_vat_number,
            enterprise_number=document.counterparty_enterprise_number,
            street=document.counterparty_street,
            postal_code=document.counterparty_postal_code,
            city=document.counterparty_city,
            country=document.counterparty_country,
        ),
        lines=[
            services.LineInput(
                description=line.description,
                quantity=line.quantity,
                unit_price=line.unit_price,
                vat_rate=to_ubl.vat_key(line.vat_category, line.vat_rate),
                exemption_reason=line.exemption_reason,
            )
            for line in document.lines.all()
        ],
        credited_document_id=document.credited_document_id,
        note=document.note,
        iban=document.iban,
    )


def download_name(document: Document, which: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", document.number).strip("-") or f"document-{document.pk}"
    return f"{document.issue_date:%Y%m%d}_{stem}.{'xml' if which == 'ubl' else 'pdf'}"


def file_response(document: Document, which: str, *, inline: bool = False) -> FileResponse:
    sha256 = document.ubl_sha256 if which == "ubl" else document.pdf_sha256
    if not sha256:
        raise Http404("This document has no such file (a draft has none until it is issued).")
    response = FileResponse(
        storage.open_blob(sha256),
        as_attachment=not inline,
        filename=download_name(document, which),
        content_type="application/xml" if which == "ubl" else "application/pdf",
    )
    response["ETag"] = f'"{sha256}"'
    return response
