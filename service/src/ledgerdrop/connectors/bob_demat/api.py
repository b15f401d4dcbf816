"""Application API of the Sage BOB Demat connector (`/api/v1/firms/{fid}/…` and the client's
`send-to-accountant`). Handlers parse, authorise, call a service and shape the answer."""

from __future__ import annotations

import datetime as dt

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Router, Schema
from ninja.responses import Status

from ledgerdrop.accounts.models import Dossier, Organisation
from ledgerdrop.connectors.bob_demat import services
from ledgerdrop.connectors.bob_demat.models import DematConnection
from ledgerdrop.core import problems
from ledgerdrop.core.tenancy import organisation_for
from ledgerdrop.delivery.models import Delivery, Device
from ledgerdrop.documents.models import Document

router = Router(tags=["Sage BOB Demat"])


def _firm(request: HttpRequest, fid: int) -> Organisation:
    return organisation_for(request.auth, fid, Organisation.Kind.FIRM)  # type: ignore[attr-defined]


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


class DeliveryOut(Schema):
    id: int
    document_id: int | None
    device_id: int
    relative_path: str
    state: str

    @staticmethod
    def of(delivery: Delivery) -> DeliveryOut:
        return DeliveryOut(
            id=delivery.pk,
            document_id=delivery.source_id,
            device_id=delivery.device_id,
            relative_path=delivery.relative_path,
            state=delivery.state,
        )


class SentOut(Schema):
    deliveries: list[DeliveryOut]


def _connector_error(exc: services.ConnectorError) -> HttpResponse:
    return problems.problem_response(exc.status, exc.message, code=exc.code)


@router.get("/firms/{fid}/bob-demat/settings", response=SettingsOut)
def get_settings(request: HttpRequest, fid: int) -> SettingsOut:
    firm = _firm(request, fid)
    demat = services.settings_of(firm)
    return SettingsOut(
        enabled=demat.enabled,
        default_device_id=demat.default_device_id,
        warnings=services.autosend_warnings(firm),
    )


@router.put("/firms/{fid}/bob-demat/settings", response=SettingsOut)
def put_settings(request: HttpRequest, fid: int, body: SettingsIn) -> SettingsOut | HttpResponse:
    firm = _firm(request, fid)
    try:
        services.set_default_device(firm, _device(firm, body.default_device_id), by=request.auth)  # type: ignore[attr-defined]
    except services.ConnectorError as exc:
        return _connector_error(exc)
    return get_settings(request, fid)


@router.get("/firms/{fid}/bob-demat/connections", response=list[ConnectionOut])
def list_connections(request: HttpRequest, fid: int) -> list[ConnectionOut]:
    firm = _firm(request, fid)
    connections = DematConnection.objects.filter(firm=firm).select_related("dossier__company")
    return [ConnectionOut.of(connection) for connection in connections]


@router.post("/firms/{fid}/bob-demat/connections", response={201: ConnectionOut})
def create_connection(
    request: HttpRequest, fid: int, body: ConnectionIn
) -> Status[ConnectionOut] | HttpResponse:
    firm = _firm(request, fid)
    dossier = get_object_or_404(Dossier, pk=body.dossier_id, firm=firm)
    try:
        connection = services.connect(
            dossier,
            body.dossier_code,
            device=_device(firm, body.device_id),
            auto_transfer=body.auto_transfer,
            start_date=body.start_date,
            by=request.auth,  # type: ignore[attr-defined]
        )
    except services.ConnectorError as exc:
        return _connector_error(exc)
    return Status(201, ConnectionOut.of(connection))


def _connection(firm: Organisation, connection_id: int) -> DematConnection:
    return get_object_or_404(
        DematConnection.objects.select_related("dossier__company"), pk=connection_id, firm=firm
    )


@router.patch("/firms/{fid}/bob-demat/connections/{cid}", response=ConnectionOut)
def patch_connection(
    request: HttpRequest, fid: int, cid: int, body: ConnectionPatch
) -> ConnectionOut | HttpResponse:
    firm = _firm(request, fid)
    connection = _connection(firm, cid)
    given = body.model_fields_set
    try:
        connection = services.update_connection(
            connection,
            by=request.auth,  # type: ignore[attr-defined]
            dossier_code=body.dossier_code,
            auto_transfer=body.auto_transfer,
            start_date=body.start_date,
            **({"device": _device(firm, body.device_id)} if "device_id" in given else {}),
        )
    except services.ConnectorError as exc:
        return _connector_error(exc)
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


@router.get("/firms/{fid}/bob-demat/connections/{cid}/autosend", response=AutosendOut)
def connection_autosend(request: HttpRequest, fid: int, cid: int) -> AutosendOut:
    connection = _connection(_firm(request, fid), cid)
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


@router.delete("/firms/{fid}/bob-demat/connections/{cid}", response={204: None})
def delete_connection(request: HttpRequest, fid: int, cid: int) -> Status[None]:
    firm = _firm(request, fid)
    services.disconnect(_connection(firm, cid), by=request.auth)  # type: ignore[attr-defined]
    return Status(204, None)


@router.get("/firms/{fid}/documents-to-process", response=list[DocumentToProcessOut])
def documents_to_process(
    request: HttpRequest, fid: int, dossier_id: int | None = None, kind: str | None = None
) -> list[DocumentToProcessOut]:
    firm = _firm(request, fid)
    dossier = get_object_or_404(Dossier, pk=dossier_id, firm=firm) if dossier_id else None
    dossiers = dict(Dossier.objects.filter(firm=firm).values_list("company_id", "pk"))
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
        for document in services.documents_to_process(firm, dossier=dossier, kind=kind)
    ]


@router.post("/firms/{fid}/bob-demat/send", response={202: SentOut})
def send(request: HttpRequest, fid: int, body: SendIn) -> Status[SentOut] | HttpResponse:
    firm = _firm(request, fid)
    device = _device(firm, body.device_id)
    assert device is not None
    documents = list(
        Document.objects.filter(pk__in=body.document_ids, company__accountant_links__firm=firm)
    )
    missing = sorted(set(body.document_ids) - {document.pk for document in documents})
    if missing:
        raise Http404(f"No documents {missing} in this firm's dossiers.")
    try:
        deliveries = services.send(firm, documents, device, by=request.auth)  # type: ignore[attr-defined]
    except services.ConnectorError as exc:
        return _connector_error(exc)
    return Status(202, SentOut(deliveries=[DeliveryOut.of(d) for d in deliveries]))


@router.post("/companies/{cid}/documents/{did}/send-to-accountant", response={202: SentOut})
def send_to_accountant(request: HttpRequest, cid: int, did: int) -> Status[SentOut] | HttpResponse:
    company = organisation_for(request.auth, cid, Organisation.Kind.COMPANY)  # type: ignore[attr-defined]
    document = get_object_or_404(Document, pk=did, company=company)
    try:
        deliveries = services.send_to_accountant(company, document, by=request.auth)  # type: ignore[attr-defined]
    except services.ConnectorError as exc:
        return _connector_error(exc)
    return Status(202, SentOut(deliveries=[DeliveryOut.of(d) for d in deliveries]))
