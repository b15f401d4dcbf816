"""Application API of documents (`/api/v1/companies/{cid}/documents…`, `/api/v1/inbound/peppol`).

Handlers parse, authorise, call `services`, and shape the answer."""

from __future__ import annotations

import datetime as dt
import hmac
from decimal import Decimal
from typing import Any, Literal

from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from ninja import File, Form, Router, Schema
from ninja.files import UploadedFile
from ninja.responses import Status
from ninja.security import HttpBearer

from ledgerdrop.accounts.models import Organisation, User
from ledgerdrop.accounts.tenancy import organisation_for
from ledgerdrop.core import paging
from ledgerdrop.core.errors import Kind, ServiceError
from ledgerdrop.core.problems import errors
from ledgerdrop.documents import bounds, inbound, queries, services
from ledgerdrop.documents.models import Document
from ledgerdrop.documents.ubl.parse import DEFAULT_MAX_BYTES, size_refusal

router = Router(tags=["documents"])


class AccessPointToken(HttpBearer):
    """The PEPPOL access point's own token (`LEDGERDROP_PEPPOL_AP_TOKEN`), not a user's."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        expected = settings.LEDGERDROP_PEPPOL_AP_TOKEN
        if expected and hmac.compare_digest(token.encode(), expected.encode()):
            return "peppol-access-point"
        return None


inbound_router = Router(tags=["inbound"], auth=AccessPointToken())


class AddressIn(Schema):
    street: str = ""
    postal_code: str = ""
    city: str = ""
    country: str = "BE"


class CounterpartyIn(Schema):
    name: str
    vat_number: str = ""
    enterprise_number: str = ""
    address: AddressIn | None = None


class LineIn(Schema):
    description: str
    quantity: Decimal = bounds.quantity_field()
    unit_price: Decimal = bounds.unit_price_field()
    # 21, 12, 6 or 0 (%), or a category: E (exempt), AE (reverse charge), K (intra-EU), G, O.
    vat_rate: Decimal | str = "21"
    exemption_reason: str = ""


class DocumentIn(Schema):
    kind: Literal["sales_invoice", "credit_note", "purchase_slip"]
    number: str = ""
    issue_date: dt.date
    due_date: dt.date | None = None
    currency: str = "EUR"
    # EUR per unit of `currency`; required for any other currency than EUR.
    eur_rate: Decimal | None = None
    counterparty: CounterpartyIn
    lines: list[LineIn]
    credited_document_id: int | None = None
    note: str = ""
    iban: str = ""
    draft: bool = False


class DocumentPatch(Schema):
    kind: Literal["sales_invoice", "credit_note", "purchase_slip"] | None = None
    issue_date: dt.date | None = None
    due_date: dt.date | None = None
    currency: str | None = None
    eur_rate: Decimal | None = None
    counterparty: CounterpartyIn | None = None
    lines: list[LineIn] | None = None
    credited_document_id: int | None = None
    note: str | None = None
    iban: str | None = None


class MarkIn(Schema):
    status: Literal["sent", "paid"]


class RejectIn(Schema):
    reason: str


# ---- answers: the JSON field names are the public contract (API.md) ------------------------


class AccountantTransferOut(Schema):
    state: Literal["none", "queued", "delivered", "failed", "cancelled"]
    delivered_at: dt.datetime | None
    error: str | None


class DocumentRowOut(Schema):
    """A document in a list."""

    id: int
    kind: str
    number: str
    issue_date: dt.date
    status: str
    total: Decimal
    currency: str
    counterparty_name: str
    accountant_transfer: AccountantTransferOut


class AddressOut(Schema):
    street: str
    postal_code: str
    city: str
    country: str


class CounterpartyOut(Schema):
    name: str
    vat_number: str
    enterprise_number: str
    address: AddressOut


class LineOut(Schema):
    description: str
    quantity: Decimal
    unit_price: Decimal
    vat_rate: str  # as in LineIn: a rate ("21") or a category ("AE")
    net_amount: Decimal
    exemption_reason: str


class FindingOut(Schema):
    layer: str
    rule_id: str
    flag: str
    message: str
    location: str = ""


class ValidationOut(Schema):
    status: Literal["valid", "invalid", "incomplete"]
    summary: str
    findings: list[FindingOut]
    layers_run: list[str]
    layers_skipped: dict[str, str] = {}


class StoredFileOut(Schema):
    sha256: str
    size: int
    url: str


class DocumentOut(DocumentRowOut):
    """One document with its lines, its validation and its files."""

    due_date: dt.date | None
    eur_rate: Decimal | None
    net_total: Decimal
    vat_total: Decimal
    counterparty: CounterpartyOut
    lines: list[LineOut]
    credited_document_id: int | None
    payment_reference: str
    iban: str
    note: str
    issued_at: dt.datetime | None
    sent_at: dt.datetime | None
    paid_at: dt.datetime | None
    approved_at: dt.datetime | None
    rejected_at: dt.datetime | None
    rejection_reason: str
    source: str
    received_from: str
    duplicate_of: int | None
    addressed_to: str | None
    addressee_confirmed_at: dt.datetime | None
    validation: ValidationOut | None
    ubl: StoredFileOut | None
    pdf: StoredFileOut | None


class PeppolReceiptOut(Schema):
    id: int
    company_id: int
    status: str
    duplicate_of: int | None


# The stored files' own media types, described for the OpenAPI document.
def _file_answer(media_type: str) -> dict[str, Any]:
    binary = {"schema": {"type": "string", "format": "binary"}}
    return {"responses": {200: {"description": "OK", "content": {media_type: binary}}}}


def _user(request: HttpRequest) -> User:
    user = request.auth  # type: ignore[attr-defined]
    if not isinstance(user, User):
        raise Http404("Only people reach companies' documents.")
    return user


def _company(request: HttpRequest, cid: int) -> Organisation:
    return organisation_for(_user(request), cid, Organisation.Kind.COMPANY)


def _document(request: HttpRequest, cid: int, document_id: int) -> Document:
    return queries.document_of(_company(request, cid), document_id)


def _counterparty(data: CounterpartyIn) -> services.CounterpartyInput:
    address = data.address or AddressIn()
    return services.CounterpartyInput(
        name=data.name,
        vat_number=data.vat_number,
        enterprise_number=data.enterprise_number,
        street=address.street,
        postal_code=address.postal_code,
        city=address.city,
        country=address.country,
    )


def _lines(lines: list[LineIn]) -> list[services.LineInput]:
    return [
        services.LineInput(
            description=line.description,
            quantity=line.quantity,
            unit_price=line.unit_price,
            vat_rate=str(line.vat_rate),
            exemption_reason=line.exemption_reason,
        )
        for line in lines
    ]


@router.post("/companies/{cid}/documents", response={201: DocumentOut, **errors(409)})
def create_document(request: HttpRequest, cid: int, payload: DocumentIn) -> Status[Any]:
    company = _company(request, cid)
    data = services.DocumentInput(
        kind=Document.Kind(payload.kind),
        issue_date=payload.issue_date,
        due_date=payload.due_date,
        currency=payload.currency,
        eur_rate=payload.eur_rate,
        counterparty=_counterparty(payload.counterparty),
        lines=_lines(payload.lines),
        credited_document_id=payload.credited_document_id,
        note=payload.note,
        iban=payload.iban,
        number=payload.number,
    )
    document = services.create_document(company, data, by=_user(request), draft=payload.draft)
    return Status(201, queries.detail(document))


@router.get("/companies/{cid}/documents", response=list[DocumentRowOut])
def list_documents(
    request: HttpRequest,
    response: HttpResponse,
    cid: int,
    kind: str = "",
    status: str = "",
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    limit: int | None = None,
    after: str | None = None,
) -> list[dict[str, Any]]:
    """`kind` and `status` as in the rows; `date_from`/`date_to` bound the issue date. With
    `limit`, one page, newest first; the `Link` header's `rel="next"` gives the next one."""
    company = _company(request, cid)
    documents = queries.overview(
        company, kind=kind, status=status, date_from=date_from, date_to=date_to
    )
    if limit is None:
        return queries.rows(documents)
    shown = paging.page(
        documents, after, size=paging.clamp(limit), field="issue_date", descending=True
    )
    if link := paging.link_header(request, shown):
        response["Link"] = link
    return queries.rows(shown.rows)


def _too_large(size: int) -> None:
    if refusal := size_refusal(size):
        raise ServiceError("too_large", refusal, Kind.TOO_LARGE, title="File too large")


@router.post("/companies/{cid}/documents/upload", response={201: DocumentOut, **errors(409)})
def upload(
    request: HttpRequest, cid: int, file: File[UploadedFile], registered: Form[bool] = False
) -> Status[Any]:
    """A received UBL document into the processing list; `registered=true` enters it as a
    purchase invoice at once (the Purchases module's manual entry)."""
    company = _company(request, cid)
    _too_large(file.size or 0)
    document = services.receive(
        company,
        file.read(DEFAULT_MAX_BYTES + 1),
        source=Document.Source.MANUAL if registered else Document.Source.UPLOAD,
        received_from=file.name or "",
        by=_user(request),
        register=registered,
    )
    return Status(201, queries.detail(document))


@router.get("/companies/{cid}/documents/{document_id}", response=DocumentOut)
def get_document(request: HttpRequest, cid: int, document_id: int) -> dict[str, Any]:
    return queries.detail(_document(request, cid, document_id))


@router.patch(
    "/companies/{cid}/documents/{document_id}", response={200: DocumentOut, **errors(409)}
)
def edit_draft(
    request: HttpRequest, cid: int, document_id: int, payload: DocumentPatch
) -> dict[str, Any]:
    document = _document(request, cid, document_id)
    current = queries.as_input(document)
    given = payload.dict(exclude_unset=True)
    data = services.DocumentInput(
        kind=Document.Kind(given.get("kind") or current.kind),
        issue_date=payload.issue_date or current.issue_date,
        due_date=payload.due_date if "due_date" in given else current.due_date,
        currency=payload.currency or current.currency,
        eur_rate=payload.eur_rate if "eur_rate" in given else current.eur_rate,
        counterparty=(
            _counterparty(payload.counterparty) if payload.counterparty else current.counterparty
        ),
        lines=_lines(payload.lines) if payload.lines is not None else current.lines,
        credited_document_id=(
            payload.credited_document_id
            if "credited_document_id" in given
            else current.credited_document_id
        ),
        note=payload.note if payload.note is not None else current.note,
        iban=payload.iban if payload.iban is not None else current.iban,
    )
    return queries.detail(services.update_draft(document, data, by=_user(request)))


@router.delete("/companies/{cid}/documents/{document_id}", response={204: None, **errors(409)})
def delete_draft(request: HttpRequest, cid: int, document_id: int) -> Status[None]:
    services.delete_draft(_document(request, cid, document_id), by=_user(request))
    return Status(204, None)


def _change(request: HttpRequest, cid: int, document_id: int, change: Any) -> dict[str, Any]:
    return queries.detail(change(_document(request, cid, document_id), _user(request)))


CHANGED = {200: DocumentOut, **errors(409)}


@router.post("/companies/{cid}/documents/{document_id}/issue", response=CHANGED)
def issue(request: HttpRequest, cid: int, document_id: int) -> dict[str, Any]:
    return _change(request, cid, document_id, lambda d, by: services.issue(d, by=by))


@router.post("/companies/{cid}/documents/{document_id}/mark", response=CHANGED)
def mark(request: HttpRequest, cid: int, document_id: int, payload: MarkIn) -> dict[str, Any]:
    return _change(request, cid, document_id, lambda d, by: services.mark(d, payload.status, by=by))


@router.post("/companies/{cid}/documents/{document_id}/approve", response=CHANGED)
def approve(request: HttpRequest, cid: int, document_id: int) -> dict[str, Any]:
    return _change(request, cid, document_id, lambda d, by: services.approve(d, by=by))


@router.post("/companies/{cid}/documents/{document_id}/confirm-addressee", response=CHANGED)
def confirm_addressee(request: HttpRequest, cid: int, document_id: int) -> dict[str, Any]:
    """A received document names another company as its buyer (`addressed_to`): confirm it is
    this company's anyway, so that it is sent to the accountant automatically like the rest."""
    return _change(request, cid, document_id, lambda d, by: services.confirm_addressee(d, by=by))


@router.post("/companies/{cid}/documents/{document_id}/reject", response=CHANGED)
def reject(request: HttpRequest, cid: int, document_id: int, payload: RejectIn) -> dict[str, Any]:
    return _change(
        request, cid, document_id, lambda d, by: services.reject(d, payload.reason, by=by)
    )


@router.post(
    "/companies/{cid}/documents/{document_id}/credit", response={201: DocumentOut, **errors(409)}
)
def credit(request: HttpRequest, cid: int, document_id: int) -> Status[Any]:
    """A draft credit note for the whole invoice (edit it with PATCH, then issue it)."""
    note = services.credit(_document(request, cid, document_id), by=_user(request))
    return Status(201, queries.detail(note))


@router.get(
    "/companies/{cid}/documents/{document_id}/ubl",
    response={200: None},
    openapi_extra=_file_answer("application/xml"),
)
def ubl_file(request: HttpRequest, cid: int, document_id: int) -> FileResponse:
    return queries.file_response(_document(request, cid, document_id), "ubl")


@router.get(
    "/companies/{cid}/documents/{document_id}/pdf",
    response={200: None},
    openapi_extra=_file_answer("application/pdf"),
)
def pdf_file(request: HttpRequest, cid: int, document_id: int) -> FileResponse:
    return queries.file_response(_document(request, cid, document_id), "pdf")


@inbound_router.post(
    "/inbound/peppol",
    response={201: PeppolReceiptOut, **errors(409, 413, 422)},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/xml": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
def peppol_hand_off(request: HttpRequest) -> Status[PeppolReceiptOut]:
    """One UBL document as the body, from the PEPPOL access point."""
    _too_large(int(request.headers.get("Content-Length") or 0))
    document = inbound.receive_from_peppol(request.read(DEFAULT_MAX_BYTES + 1))
    return Status(
        201,
        PeppolReceiptOut(
            id=document.pk,
            company_id=document.company_id,
            status=document.status,
            duplicate_of=document.duplicate_of_id,
        ),
    )


router.add_router("/", inbound_router)
