"""Application API of the package connectors (`/api/v1/connectors`, `/api/v1/firms/{fid}/
connectors/{app}/…`). Handlers parse, authorise, call a service and shape the answer; every
`bob-demat` path stays as it is (connectors/bob_demat/api.py)."""

from __future__ import annotations

import datetime as dt

from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Router, Schema
from ninja.responses import Status

from ledgerdrop.accounts.models import Dossier, Organisation
from ledgerdrop.accounts.tenancy import firm_for
from ledgerdrop.connectors.bob_demat import naming as bob_demat_naming
from ledgerdrop.connectors.bob_demat.api import KEY as BOB_DEMAT
from ledgerdrop.connectors.bob_demat.api import QueuedDeliveryOut, SentOut
from ledgerdrop.connectors.presets import mail, routes, services
from ledgerdrop.connectors.presets.catalogue import (
    DEFAULT_FILE_TEMPLATE,
    PRESETS,
    PURCHASES,
    SALES,
    Mechanism,
    Payload,
    Preset,
    preset_of,
)
from ledgerdrop.connectors.presets.models import Connection, Message
from ledgerdrop.core.problems import errors
from ledgerdrop.delivery.models import Device
from ledgerdrop.documents.models import Document

router = Router(tags=["Connectors"])


# What a connection of each mechanism takes, besides `dossier_id`.
FOLDER_FIELDS = [
    "dossier_code", "device_id", "path_template", "file_template", "direction_words", "payload",
]  # fmt: skip
EMAIL_FIELDS = ["addresses", "payload"]


class ConnectorOut(Schema):
    app: str
    name: str
    mechanism: str
    # Whether a firm can switch it on with this version (every preset, since both mechanisms).
    available: bool
    fields: list[str]
    path_template: str
    file_template: str
    direction_words: dict[str, str]
    address_keys: list[str]
    payload: str

    @staticmethod
    def of(preset: Preset) -> ConnectorOut:
        folder = preset.mechanism is Mechanism.FOLDER
        return ConnectorOut(
            app=preset.slug,
            name=str(preset.title),
            mechanism=preset.mechanism.value,
            available=preset in services.available_presets(),
            fields=FOLDER_FIELDS if folder else EMAIL_FIELDS,
            path_template=preset.path_template,
            file_template=DEFAULT_FILE_TEMPLATE if folder else "",
            direction_words=preset.direction_words,
            address_keys=list(preset.address_keys),
            payload=preset.payload.value,
        )


class ConnectorSettingsIn(Schema):
    default_device_id: int | None


class ConnectorSettingsOut(Schema):
    app: str
    enabled: bool
    default_device_id: int | None


class ConnectorConnectionIn(Schema):
    dossier_id: int
    device_id: int | None = None
    auto_transfer: bool = False
    start_date: dt.date | None = None
    dossier_code: str | None = None
    path_template: str | None = None
    file_template: str | None = None
    direction_words: dict[str, str] | None = None
    payload: str | None = None
    # E-mail presets: the addresses, by the preset's `address_keys`.
    addresses: dict[str, str] | None = None


class ConnectorConnectionPatch(Schema):
    device_id: int | None = None
    auto_transfer: bool | None = None
    start_date: dt.date | None = None
    dossier_code: str | None = None
    path_template: str | None = None
    file_template: str | None = None
    direction_words: dict[str, str] | None = None
    payload: str | None = None
    addresses: dict[str, str] | None = None


class ConnectorConnectionOut(Schema):
    id: int
    app: str
    dossier_id: int
    company_name: str
    dossier_code: str
    device_id: int | None
    path_template: str
    file_template: str
    direction_words: dict[str, str]
    payload: str
    addresses: dict[str, str]
    auto_transfer: bool
    start_date: dt.date
    folders: list[str]

    @staticmethod
    def of(connection: Connection) -> ConnectorConnectionOut:
        return ConnectorConnectionOut(
            id=connection.pk,
            app=connection.app,
            dossier_id=connection.dossier_id,
            company_name=connection.dossier.company.name,
            dossier_code=connection.dossier_code,
            device_id=connection.device_id,
            path_template=connection.path_template,
            file_template=connection.file_template,
            direction_words=connection.direction_words,
            payload=connection.payload,
            addresses=connection.addresses,
            auto_transfer=connection.auto_transfer,
            start_date=connection.start_date,
            folders=(
                []
                if services.by_email(connection.app)
                else sorted(routes.Route.of(connection).folders(timezone.localdate()))
            ),
        )


class ConnectorPreviewIn(ConnectorConnectionPatch):
    dossier_id: int
    connection_id: int | None = None


class ConnectorSampleOut(Schema):
    kind: str
    # Folder presets: the full path of each file of the sample document.
    paths: list[str]
    # E-mail presets: where its message goes, and the message's subject.
    address: str | None = None
    subject: str | None = None


class ConnectorPreviewOut(Schema):
    main_folder: str
    samples: list[ConnectorSampleOut]


class ConnectorSendIn(Schema):
    document_ids: list[int]
    device_id: int | None = None


class ConnectorMessageOut(Schema):
    id: int
    document_id: int
    to: str
    subject: str
    state: str

    @staticmethod
    def of(message: Message) -> ConnectorMessageOut:
        return ConnectorMessageOut(
            id=message.pk,
            document_id=message.shipment.document_id,
            to=message.to,
            subject=message.subject,
            state=message.state,
        )


class ConnectorSentOut(SentOut):
    """BOB Demat's answer (the deliveries queued, by folder presets) and, by e-mail presets,
    one message per document."""

    messages: list[ConnectorMessageOut] = []


def _firm(request: HttpRequest, fid: int, app: str) -> Organisation:
    firm = firm_for(request.auth, fid)  # type: ignore[attr-defined]
    preset_of(app)
    return firm


def _device(firm: Organisation, device_id: int | None) -> Device | None:
    if device_id is None:
        return None
    return get_object_or_404(Device.objects.active(), pk=device_id, firm=firm)


def _connection(firm: Organisation, app: str, connection_id: int) -> Connection:
    return get_object_or_404(
        Connection.objects.select_related("dossier__company", "device"),
        pk=connection_id,
        firm=firm,
        app=app,
    )


def _fields(body: ConnectorConnectionPatch | ConnectorConnectionIn, app: str) -> dict[str, object]:
    if services.by_email(app):
        return {"addresses": body.addresses, "payload": body.payload}
    return {
        "dossier_code": body.dossier_code,
        "path_template": body.path_template,
        "file_template": body.file_template,
        "direction_words": body.direction_words,
        "payload": body.payload,
    }


# BOB Demat came first and keeps its own connections and paths (`/firms/{fid}/bob-demat/…`,
# also at `connectors/bob-demat/…`): its folders are fixed, `<dossier code>/achats|ventes`.
BOB_DEMAT_CONNECTOR = ConnectorOut(
    app=BOB_DEMAT,
    name="Sage BOB Demat",
    mechanism=Mechanism.FOLDER.value,
    available=True,
    fields=["dossier_code", "device_id", "auto_transfer", "start_date"],
    path_template="{dossier_code}/{direction}",
    file_template=DEFAULT_FILE_TEMPLATE,
    direction_words={
        SALES: bob_demat_naming.SALES_FOLDER,
        PURCHASES: bob_demat_naming.PURCHASES_FOLDER,
    },
    address_keys=[],
    payload=Payload.UBL.value,
)


@router.get("/connectors", response=list[ConnectorOut])
def list_connectors(request: HttpRequest) -> list[ConnectorOut]:
    return [BOB_DEMAT_CONNECTOR, *(ConnectorOut.of(preset) for preset in PRESETS.values())]


@router.get("/firms/{fid}/connectors/{app}/settings", response=ConnectorSettingsOut)
def get_connector_settings(request: HttpRequest, fid: int, app: str) -> ConnectorSettingsOut:
    settings = services.settings_of(_firm(request, fid, app), app)
    return ConnectorSettingsOut(
        app=app, enabled=settings.enabled, default_device_id=settings.default_device_id
    )


@router.put(
    "/firms/{fid}/connectors/{app}/settings", response={200: ConnectorSettingsOut, **errors(409)}
)
def put_connector_settings(
    request: HttpRequest, fid: int, app: str, body: ConnectorSettingsIn
) -> ConnectorSettingsOut:
    firm = _firm(request, fid, app)
    device = _device(firm, body.default_device_id)
    services.set_default_device(firm, app, device, by=request.auth)  # type: ignore[attr-defined]
    return get_connector_settings(request, fid, app)


@router.get("/firms/{fid}/connectors/{app}/connections", response=list[ConnectorConnectionOut])
def list_connector_connections(
    request: HttpRequest, fid: int, app: str
) -> list[ConnectorConnectionOut]:
    firm = _firm(request, fid, app)
    connections = Connection.objects.filter(firm=firm, app=app).select_related("dossier__company")
    return [ConnectorConnectionOut.of(connection) for connection in connections]


@router.post(
    "/firms/{fid}/connectors/{app}/connections",
    response={201: ConnectorConnectionOut, **errors(409)},
)
def create_connector_connection(
    request: HttpRequest, fid: int, app: str, body: ConnectorConnectionIn
) -> Status[ConnectorConnectionOut]:
    firm = _firm(request, fid, app)
    dossier = get_object_or_404(Dossier, pk=body.dossier_id, firm=firm)
    connection = services.connect(
        dossier,
        app,
        device=_device(firm, body.device_id),
        auto_transfer=body.auto_transfer,
        start_date=body.start_date,
        by=request.auth,  # type: ignore[attr-defined]
        **_fields(body, app),  # type: ignore[arg-type]
    )
    return Status(201, ConnectorConnectionOut.of(connection))


@router.patch(
    "/firms/{fid}/connectors/{app}/connections/{cid}",
    response={200: ConnectorConnectionOut, **errors(409)},
)
def patch_connector_connection(
    request: HttpRequest, fid: int, app: str, cid: int, body: ConnectorConnectionPatch
) -> ConnectorConnectionOut:
    firm = _firm(request, fid, app)
    connection = _connection(firm, app, cid)
    device = (
        {"device": _device(firm, body.device_id)} if "device_id" in body.model_fields_set else {}
    )
    connection = services.update_connection(
        connection,
        by=request.auth,  # type: ignore[attr-defined]
        auto_transfer=body.auto_transfer,
        start_date=body.start_date,
        **device,  # type: ignore[arg-type]
        **_fields(body, app),  # type: ignore[arg-type]
    )
    return ConnectorConnectionOut.of(connection)


@router.delete("/firms/{fid}/connectors/{app}/connections/{cid}", response={204: None})
def delete_connector_connection(request: HttpRequest, fid: int, app: str, cid: int) -> Status[None]:
    firm = _firm(request, fid, app)
    services.disconnect(_connection(firm, app, cid), by=request.auth)  # type: ignore[attr-defined]
    return Status(204, None)


@router.post("/firms/{fid}/connectors/{app}/preview", response=ConnectorPreviewOut)
def preview_connector(
    request: HttpRequest, fid: int, app: str, body: ConnectorPreviewIn
) -> ConnectorPreviewOut:
    """The full paths of a sample sales invoice, credit note, purchase invoice and purchase
    slip of the dossier, on the main folder of the device that would receive them; for an
    e-mail preset, the address and subject of each one's message."""
    firm = _firm(request, fid, app)
    dossier = get_object_or_404(Dossier, pk=body.dossier_id, firm=firm)
    connection = _connection(firm, app, body.connection_id) if body.connection_id else None
    if services.by_email(app):
        messages = mail.preview_messages(
            dossier, app, connection=connection, addresses=body.addresses
        )
        return ConnectorPreviewOut(
            main_folder="",
            samples=[
                ConnectorSampleOut(
                    kind=sample.kind, paths=[], address=sample.address, subject=sample.subject
                )
                for sample in messages
            ],
        )
    main_folder = services.main_folder_for(firm, app, connection)
    samples = routes.preview(
        dossier, app, main_folder=main_folder, connection=connection,
        **_fields(body, app),  # type: ignore[arg-type]
    )  # fmt: skip
    return ConnectorPreviewOut(
        main_folder=main_folder,
        samples=[ConnectorSampleOut(kind=sample.kind, paths=sample.paths) for sample in samples],
    )


@router.post("/firms/{fid}/connectors/{app}/send", response={202: ConnectorSentOut, **errors(409)})
def send_to_connector(
    request: HttpRequest, fid: int, app: str, body: ConnectorSendIn
) -> Status[ConnectorSentOut]:
    firm = _firm(request, fid, app)
    device = _device(firm, body.device_id)
    documents = list(
        Document.objects.filter(pk__in=body.document_ids, company__accountant_links__firm=firm)
    )
    missing = sorted(set(body.document_ids) - {document.pk for document in documents})
    if missing:
        raise Http404(f"No documents {missing} in this firm's dossiers.")
    if services.by_email(app):
        messages = services.mail_documents(firm, app, documents, by=request.auth)  # type: ignore[attr-defined]
        return Status(
            202,
            ConnectorSentOut(deliveries=[], messages=[ConnectorMessageOut.of(m) for m in messages]),
        )
    deliveries = services.send(firm, app, documents, device=device, by=request.auth)  # type: ignore[attr-defined]
    return Status(202, ConnectorSentOut(deliveries=[QueuedDeliveryOut.of(d) for d in deliveries]))
