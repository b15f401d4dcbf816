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
from ninja.security import HttpBearer

from ledgerdrop.accounts.models import Organisation, User
from ledgerdrop.core.problems import problem_response
from ledgerdrop.core.tenancy import organisation_for
from ledgerdrop.documents import bounds, findings, inbound, queries, services
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


def _user(request: HttpRequest) -> User:
    user = request.auth  # type: ignore[attr-defined]
    if not isinstance(user, User):
        raise Http404("Only people reach companies' documents.")
    return user


def _company(request: HttpRequest, cid: int) -> Organisation:
    return organisation_for(_user(request), cid, Organisation.Kind.COMPANY)


def _document(request: HttpRequest, cid: int, document_id: int) -> Document:
    return queries.document_of(_company(request, cid), document_id)


def _error(error: services.DocumentError) -> HttpResponse:
    if isinstance(error, services.OutOfRangeError):
        return problem_response(
            422, "Out of range", error.message, code=error.code, errors=error.errors
        )
    if error.report is not None:
        errors = [
            {
                "field": f.location,
                "message": f"{f.rule_id}: {f.message}",
                "layer": f.layer,
                "summary": findings.summary(f.rule_id, f.layer),
            }
            for f in error.report.errors
        ]
        return problem_response(
            422, "The document is not valid", error.message, code=error.code, errors=errors
        )
    status = 422 if error.code in {"invalid", "number_taken"} else 409
    fields = [{"field": name, "message": label} for name, label in error.fields.items()]
    return problem_response(
        status,
        "The document cannot change",
        error.message,
        code=error.code,
        errors=fields or None,
    )


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


@router.post("/companies/{cid}/documents")
def create_document(request: HttpRequest, cid: int, payload: DocumentIn) -> HttpResponse:
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
    try:
        document = services.create_document(
            company,
            data,
            by=_user(request),
            draft=payload.draft,
        )
    except services.DocumentError as error:
        return _error(error)
    return queries.json_response(queries.detail(document), status=201)


@router.get("/companies/{cid}/documents")
def list_documents(
    request: HttpRequest,
    cid: int,
    kind: str = "",
    status: str = "",
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> HttpResponse:
    """`kind` and `status` as in the rows; `date_from`/`date_to` bound the issue date."""
    company = _company(request, cid)
    documents = queries.overview(
        company, kind=kind, status=status, date_from=date_from, date_to=date_to
    )
    return queries.json_response(queries.rows(documents))


@router.post("/companies/{cid}/documents/upload")
def upload(
    request: HttpRequest, cid: int, file: File[UploadedFile], registered: Form[bool] = False
) -> HttpResponse:
    """A received UBL document into the processing list; `registered=true` enters it as a
    purchase invoice at once (the Purchases module's manual entry)."""
    company = _company(request, cid)
    if refusal := size_refusal(file.size or 0):
        return problem_response(413, "File too large", refusal, code="too_large")
    data = file.read(DEFAULT_MAX_BYTES + 1)
    try:
        document = services.receive(
            company,
            data,
            source=Document.Source.MANUAL if registered else Document.Source.UPLOAD,
            received_from=file.name or "",
            by=_user(request),
            register=registered,
        )
    except services.DocumentError as error:
        return _error(error)
    return queries.json_response(queries.detail(document), status=201)


@router.get("/companies/{cid}/documents/{document_id}")
def get_document(request: HttpRequest, cid: int, document_id: int) -> HttpResponse:
    return queries.json_response(queries.detail(_document(request, cid, document_id)))


@router.patch("/companies/{cid}/documents/{document_id}")
def edit_draft(
    request: HttpRequest, cid: int, document_id: int, payload: DocumentPatch
) -> HttpResponse:
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
    try:
        document = services.update_draft(document, data, by=_user(request))
    except services.DocumentError as error:
        return _error(error)
    return queries.json_response(queries.detail(document))


@router.delete("/companies/{cid}/documents/{document_id}")
def delete_draft(request: HttpRequest, cid: int, document_id: int) -> HttpResponse:
    document = _document(request, cid, document_id)
    try:
        services.delete_draft(document, by=_user(request))
    except services.DocumentError as error:
        return _error(error)
    return HttpResponse(status=204)


def _change(request: HttpRequest, cid: int, document_id: int, change: Any) -> HttpResponse:
    document = _document(request, cid, document_id)
    try:
        document = change(document, _user(request))
    except services.DocumentError as error:
        return _error(error)
    return queries.json_response(queries.detail(document))


@router.post("/companies/{cid}/documents/{document_id}/issue")
def issue(request: HttpRequest, cid: int, document_id: int) -> HttpResponse:
    return _change(request, cid, document_id, lambda d, by: services.issue(d, by=by))


@router.post("/companies/{cid}/documents/{document_id}/mark")
def mark(request: HttpRequest, cid: int, document_id: int, payload: MarkIn) -> HttpResponse:
    return _change(request, cid, document_id, lambda d, by: services.mark(d, payload.status, by=by))


@router.post("/companies/{cid}/documents/{document_id}/approve")
def approve(request: HttpRequest, cid: int, document_id: int) -> HttpResponse:
    return _change(request, cid, document_id, lambda d, by: services.approve(d, by=by))


@router.post("/companies/{cid}/documents/{document_id}/confirm-addressee")
def confirm_addressee(request: HttpRequest, cid: int, document_id: int) -> HttpResponse:
    """A received document names another company as its buyer (`addressed_to`): confirm it is
    this company's anyway, so that it is sent to the accountant automatically like the rest."""
    return _change(request, cid, document_id, lambda d, by: services.confirm_addressee(d, by=by))


@router.post("/companies/{cid}/documents/{document_id}/reject")
def reject(request: HttpRequest, cid: int, document_id: int, payload: RejectIn) -> HttpResponse:
    return _change(
        request, cid, document_id, lambda d, by: services.reject(d, payload.reason, by=by)
    )


@router.post("/companies/{cid}/documents/{document_id}/credit")
def credit(request: HttpRequest, cid: int, document_id: int) -> HttpResponse:
    """A draft credit note for the whole invoice (edit it with PATCH, then issue it)."""
    document = _document(request, cid, document_id)
    try:
        note = services.credit(document, by=_user(request))
    except services.DocumentError as error:
        return _error(error)
    return queries.json_response(queries.detail(note), status=201)


@router.get("/companies/{cid}/documents/{document_id}/ubl")
def ubl_file(request: HttpRequest, cid: int, document_id: int) -> FileResponse:
    return queries.file_response(_document(request, cid, document_id), "ubl")


@router.get("/companies/{cid}/documents/{document_id}/pdf")
def pdf_file(request: HttpRequest, cid: int, document_id: int) -> FileResponse:
    return queries.file_response(_document(request, cid, document_id), "pdf")


@inbound_router.post("/inbound/peppol")
def peppol_hand_off(request: HttpRequest) -> HttpResponse:
    """One UBL document as the body, from the PEPPOL access point."""
    if refusal := size_refusal(int(request.headers.get("Content-Length") or 0)):
        return problem_response(413, "File too large", refusal, code="too_large")
    try:
        document = inbound.receive_from_peppol(request.read(DEFAULT_MAX_BYTES + 1))
    except inbound.UnknownReceiver as error:
        return problem_response(422, "Unknown receiver", str(error), code="unknown_receiver")
    except services.DocumentError as error:
        return _error(error)
    return queries.json_response(
        {
            "id": document.pk,
            "company_id": document.company_id,
            "status": document.status,
            "duplicate_of": document.duplicate_of_id,
        },
        status=201,
    )


router.add_router("/", inbound_router)
