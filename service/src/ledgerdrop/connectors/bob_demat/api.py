"""Application API of the Sage BOB Demat connector (`/api/v1/firms/{fid}/…` and the client's
`send-to-accountant`). Handlers parse, authorise, call a service and shape the answer."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Schema
from ninja.responses import Status

from ledgerdrop.accounts.models import Dossier, Organisation
from ledgerdrop.accounts.tenancy import company_for, firm_for
from ledgerdrop.connectors import to_process
from ledgerdrop.connectors.bob_demat import naming, services
from ledgerdrop.connectors.bob_demat.models import DematConnection, validate_dossier_code
from ledgerdrop.core import paging
from ledgerdrop.core.errors import Kind, ServiceError
from ledgerdrop.core.problems import errors
from ledgerdrop.delivery.models import Delivery, Device
from ledgerdrop.documents.models import Document
from ledgerdrop_protocol import paths

View = TypeVar("View", bound=Callable[..., Any])

router = Router(tags=["Sage BOB Demat"])

KEY = "bob-demat"


def _route(method: str, suffix: str, **options: Any) -> Callable[[View], View]:
    """An operation on BOB Demat's settings and connections, answering both at its own path
    (`/firms/{fid}/bob-demat…`, the contract since S4) and at the connectors' one
    (`/firms/{fid}/connectors/bob-demat…`), where the other packages' operations live."""

    def decorate(view: View) -> View:
        router.api_operation([method], f"/firms/{{fid}}/{KEY}{suffix}", **options)(view)
        router.api_operation(
            [method],
            f"/firms/{{fid}}/connectors/{KEY}{suffix}",
            operation_id=f"{view.__name__}_as_connector",
            **options,
        )(view)
        return view

    return decorate


def _device(firm: Organisation, device_id: int | None) -> Device | None:
    if device_id is None:
        return None
    return get_object_or_404(Device.objects.active(), pk=device_id, firm=firm)


class SettingsIn(Schema):
    default_device_id: int | None


class SettingsOut(Schema):
    enabled: bool
    default_device_id: int | None
    warnings: list[str]


class ConnectionIn(Schema):
    dossier_id: int
    dossier_code: str
    device_id: int | None = None
    auto_transfer: bool = False
    start_date: dt.date | None = None


class ConnectionPatch(Schema):
    dossier_code: str | None = None
    device_id: int | None = None
    auto_transfer: bool | None = None
    start_date: dt.date | None = None


class ConnectionOut(Schema):
    id: int
    dossier_id: int
    company_name: str
    dossier_code: str
    device_id: int | None
    auto_transfer: bool
    start_date: dt.date
    folders: list[str]

    @staticmethod
    def of(connection: DematConnection) -> ConnectionOut:
        return ConnectionOut(
            id=connection.pk,
            dossier_id=connection.dossier_id,
            company_name=connection.dossier.company.name,
            dossier_code=connection.dossier_code,
            device_id=connection.device_id,
            auto_transfer=connection.auto_transfer,
            start_date=connection.start_date,
            folders=[f"{connection.dossier_code}/achats", f"{connection.dossier_code}/ventes"],
        )


class DocumentToProcessOut(Schema):
    id: int
    dossier_id: int
    company_name: str
    kind: str
    number: str
    issue_date: dt.date
    status: str
    total: str


class SendIn(Schema):
    document_ids: list[int]
    device_id: int


class QueuedDeliveryOut(Schema):
    """A delivery just queued (the firm's history of deliveries is `DeliveryOut`)."""

    id: int
    document_id: int | None
    device_id: int
    relative_path: str
    state: str

    @staticmethod
    def of(delivery: Delivery) -> QueuedDeliveryOut:
        return QueuedDeliveryOut(
            id=delivery.pk,
            document_id=delivery.source_id,
            device_id=delivery.device_id,
            relative_path=delivery.relative_path,
            state=delivery.state,
        )


class SentOut(Schema):
    deliveries: list[QueuedDeliveryOut]


@_route("GET", "/settings", response=SettingsOut)
def get_settings(request: HttpRequest, fid: int) -> SettingsOut:
    firm = firm_for(request.auth, fid)  # type: ignore[attr-defined]
    demat = services.settings_of(firm)
    return SettingsOut(
        enabled=demat.enabled,
        default_device_id=demat.default_device_id,
        warnings=services.autosend_warnings(firm),
    )


@_route("PUT", "/settings", response={200: SettingsOut, **errors(409)})
def put_settings(request: HttpRequest, fid: int, body: SettingsIn) -> SettingsOut:
    firm = firm_for(request.auth, fid)  # type: ignore[attr-defined]
    services.set_default_device(firm, _device(firm, body.default_device_id), by=request.auth)  # type: ignore[attr-defined]
    return get_settings(request, fid)


@_route("GET", "/connections", response=list[ConnectionOut])
def list_connections(request: HttpRequest, fid: int) -> list[ConnectionOut]:
    firm = firm_for(request.auth, fid)  # type: ignore[attr-defined]
    connections = DematConnection.objects.filter(firm=firm).select_related("dossier__company")
    return [ConnectionOut.of(connection) for connection in connections]


@_route("POST", "/connections", response={201: ConnectionOut, **errors(409)})
def create_connection(request: HttpRequest, fid: int, body: ConnectionIn) -> Status[ConnectionOut]:
    firm = firm_for(request.auth, fid)  # type: ignore[attr-defined]
    dossier = get_object_or_404(Dossier, pk=body.dossier_id, firm=firm)
    connection = services.connect(
        dossier,
        body.dossier_code,
        device=_device(firm, body.device_id),
        auto_transfer=body.auto_transfer,
        start_date=body.start_date,
        by=request.auth,  # type: ignore[attr-defined]
    )
    return Status(201, ConnectionOut.of(connection))


def _connection(firm: Organisation, connection_id: int) -> DematConnection:
    return get_object_or_404(
        DematConnection.objects.select_related("dossier__company"), pk=connection_id, firm=firm
    )


@_route("PATCH", "/connections/{cid}", response={200: ConnectionOut, **errors(409)})
def patch_connection(
    request: HttpRequest, fid: int, cid: int, body: ConnectionPatch
) -> ConnectionOut:
    firm = firm_for(request.auth, fid)  # type: ignore[attr-defined]
    connection = _connection(firm, cid)
    given = body.model_fields_set
    connection = services.update_connection(
        connection,
        by=request.auth,  # type: ignore[attr-defined]
        dossier_code=body.dossier_code,
        auto_transfer=body.auto_transfer,
        start_date=body.start_date,
        **({"device": _device(firm, body.device_id)} if "device_id" in given else {}),
    )
    return ConnectionOut.of(connection)


class AutosendRunOut(Schema):
    started_at: dt.datetime
    finished_at: dt.datetime
    queued: int
    failed: int
    skipped_reason: str


class AutosendOut(Schema):
    """What the connection's automatic transfer will do, and what it did last (S8)."""

    auto_transfer: bool
    next_run_at: dt.datetime
    would_send: dict[str, int]
    last_run: AutosendRunOut | None


class PreviewIn(Schema):
    dossier_id: int
    # The code typed in the form; without it, the code of the dossier's connection.
    dossier_code: str | None = None
    device_id: int | None = None


class SampleOut(Schema):
    kind: str
    paths: list[str]


class PreviewOut(Schema):
    main_folder: str
    samples: list[SampleOut]


# The samples of the preview, as the other packages' (connectors/presets/services.py).
SAMPLES = (
    (Document.Kind.SALES_INVOICE, "2026-0042"),
    (Document.Kind.CREDIT_NOTE, "NC-2026-0007"),
    (Document.Kind.PURCHASE_INVOICE, "F-88120"),
    (Document.Kind.PURCHASE_SLIP, "BA-2026-0003"),
)


@router.post(f"/firms/{{fid}}/connectors/{KEY}/preview", response={200: PreviewOut, **errors(422)})
def preview(request: HttpRequest, fid: int, body: PreviewIn) -> PreviewOut:
    """The full paths BOB Demat's fixed folders give a sample sales invoice, credit note,
    purchase invoice and purchase slip of the dossier, `<main folder>/<dossier code>/achats|
    ventes/<file name>`, on the main folder of the device that would receive them. Only at the
    connectors' path: BOB Demat's own paths never had a preview."""
    firm = firm_for(request.auth, fid)  # type: ignore[attr-defined]
    dossier = get_object_or_404(Dossier, pk=body.dossier_id, firm=firm)
    connection = DematConnection.objects.filter(firm=firm, dossier=dossier).first()
    code = (body.dossier_code or (connection.dossier_code if connection else "")).strip()
    try:
        validate_dossier_code(code)
    except ValidationError as exc:
        raise ServiceError("invalid_dossier_code", " ".join(exc.messages), Kind.INVALID) from exc
    own = connection.device if connection else None
    device = (
        _device(firm, body.device_id)
        or (own if own is not None and own.revoked_at is None else None)
        or services.default_device(firm)
    )
    main_folder = device.root_folder if device else Device.default_root_folder("Windows")
    separator = "\\" if paths.is_windows_form(main_folder) else "/"
    today = timezone.localdate()
    samples = []
    for sequence, (kind, number) in enumerate(SAMPLES, start=1):
        sample = Document(pk=1000 + sequence, kind=kind, number=number, issue_date=today)
        relative = naming.relative_path(code, sample)
        full = main_folder.rstrip("\\/") + separator + relative.replace("/", separator)
        samples.append(SampleOut(kind=kind.value, paths=[full]))
    return PreviewOut(main_folder=main_folder, samples=samples)


@_route("GET", "/connections/{cid}/autosend", response=AutosendOut)
def connection_autosend(request: HttpRequest, fid: int, cid: int) -> AutosendOut:
    connection = _connection(firm_for(request.auth, fid), cid)  # type: ignore[attr-defined]
    outlook = services.autosend_outlook(connection)
    last = outlook.last_run
    return AutosendOut(
        auto_transfer=connection.auto_transfer,
        next_run_at=outlook.next_run_at,
        would_send={kind: count for kind, _label, count in outlook.would_send},
        last_run=None
        if last is None
        else AutosendRunOut(
            started_at=last.started_at,
            finished_at=last.finished_at,
            queued=last.queued,
            failed=outlook.last_run_failures,
            skipped_reason=last.skipped_reason,
        ),
    )


@_route("DELETE", "/connections/{cid}", response={204: None})
def delete_connection(request: HttpRequest, fid: int, cid: int) -> Status[None]:
    firm = firm_for(request.auth, fid)  # type: ignore[attr-defined]
    services.disconnect(_connection(firm, cid), by=request.auth)  # type: ignore[attr-defined]
    return Status(204, None)


@router.get("/firms/{fid}/documents-to-process", response=list[DocumentToProcessOut])
def documents_to_process(
    request: HttpRequest,
    response: HttpResponse,
    fid: int,
    dossier_id: int | None = None,
    kind: str | None = None,
    app: str | None = None,
    limit: int | None = None,
    after: str | None = None,
) -> list[DocumentToProcessOut]:
    """Sage BOB Demat's documents to process, or with `app` another package's, oldest first.
    With `limit`, one page; the `Link` header's `rel="next"` gives the next one."""
    firm = firm_for(request.auth, fid)  # type: ignore[attr-defined]
    dossier = get_object_or_404(Dossier, pk=dossier_id, firm=firm) if dossier_id else None
    documents_of = to_process.DOCUMENTS_TO_PROCESS.get(app or "bob-demat")
    if documents_of is None:
        raise ServiceError("unknown_app", _("No such connector."), Kind.NOT_FOUND)
    documents = documents_of(firm, dossier, kind)
    if limit is not None:
        shown = paging.page(documents, after, size=paging.clamp(limit), field="issue_date")
        if link := paging.link_header(request, shown):
            response["Link"] = link
        documents = shown.rows  # type: ignore[assignment]
    documents = list(documents)  # type: ignore[assignment]
    dossiers = dict(
        Dossier.objects.filter(
            firm=firm, company__in={document.company_id for document in documents}
        ).values_list("company_id", "pk")
    )
    return [
        DocumentToProcessOut(
            id=document.pk,
            dossier_id=dossiers[document.company_id],
            company_name=document.company.name,
            kind=document.kind,
            number=document.number,
            issue_date=document.issue_date,
            status=document.status,
            total=str(document.total),
        )
        for document in documents
    ]


@_route("POST", "/send", response={202: SentOut, **errors(409)})
def send(request: HttpRequest, fid: int, body: SendIn) -> Status[SentOut]:
    firm = firm_for(request.auth, fid)  # type: ignore[attr-defined]
    device = _device(firm, body.device_id)
    assert device is not None
    documents = list(
        Document.objects.filter(pk__in=body.document_ids, company__accountant_links__firm=firm)
    )
    missing = sorted(set(body.document_ids) - {document.pk for document in documents})
    if missing:
        raise Http404(f"No documents {missing} in this firm's dossiers.")
    deliveries = services.send(firm, documents, device, by=request.auth)  # type: ignore[attr-defined]
    return Status(202, SentOut(deliveries=[QueuedDeliveryOut.of(d) for d in deliveries]))


@router.post(
    "/companies/{cid}/documents/{did}/send-to-accountant",
    response={202: SentOut, **errors(409)},
)
def send_to_accountant(request: HttpRequest, cid: int, did: int) -> Status[SentOut]:
    company = company_for(request.auth, cid)  # type: ignore[attr-defined]
    document = get_object_or_404(Document, pk=did, company=company)
    deliveries = services.send_to_accountant(company, document, by=request.auth)  # type: ignore[attr-defined]
    return Status(202, SentOut(deliveries=[QueuedDeliveryOut.of(d) for d in deliveries]))
