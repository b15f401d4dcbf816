"""The state changes of the package connectors: switching a package on, connecting dossiers,
and sending documents. It decides *what* goes *where*; `routes` names a connection's folders
and files, `delivery` moves the bytes of folder presets through the devices, `mail` writes
e-mail presets' messages and hands them to the SMTP server, and `nightly` selects and inserts
in bulk what the nightly transfer sends."""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from ledgerdrop.accounts import audit
from ledgerdrop.accounts.models import Dossier, Organisation, User
from ledgerdrop.connectors.bob_demat import eligibility
from ledgerdrop.connectors.presets import mail, nightly, routes
from ledgerdrop.connectors.presets.catalogue import PRESETS, Mechanism, Payload, Preset, preset_of
from ledgerdrop.connectors.presets.models import Connection, ConnectorSettings, Message, Shipment
from ledgerdrop.core.database import in_turns
from ledgerdrop.core.errors import Kind, ServiceError
from ledgerdrop.core.tasks import background, enqueue_on_commit, enqueue_on_commit_after
from ledgerdrop.delivery import folders as delivery_folders
from ledgerdrop.delivery import services as delivery_services
from ledgerdrop.delivery.models import Delivery, Device
from ledgerdrop.delivery.wakeups import wake_on_commit
from ledgerdrop.documents.models import Document

logger = logging.getLogger(__name__)

# ---- the catalogue ------------------------------------------------------------------------


def available_presets() -> list[Preset]:
    """The presets a firm can switch on: every one, both mechanisms run here."""
    return list(PRESETS.values())


def _folder_apps() -> list[str]:
    return [preset.slug for preset in PRESETS.values() if preset.mechanism is Mechanism.FOLDER]


def by_email(app: str) -> bool:
    return preset_of(app).mechanism is Mechanism.EMAIL


# ---- settings -----------------------------------------------------------------------------


def settings_of(firm: Organisation, app: str) -> ConnectorSettings:
    preset_of(app)
    settings, _created = ConnectorSettings.objects.select_related("default_device").get_or_create(
        firm=firm, app=app
    )
    return settings


def is_enabled(firm: Organisation, app: str) -> bool:
    return ConnectorSettings.objects.filter(firm=firm, app=app, enabled=True).exists()


@transaction.atomic
def switch(firm: Organisation, app: str, enabled: bool, *, by: User | None) -> ConnectorSettings:
    """Switching a package off hides its pages; connections and history are kept."""
    settings = settings_of(firm, app)
    if settings.enabled != enabled:
        settings.enabled = enabled
        settings.save(update_fields=["enabled"])
        audit.record(
            firm, "connector.enabled" if enabled else "connector.disabled", settings,
            actor=by, app=app,
        )  # fmt: skip
    return settings


def _own_active_device(firm: Organisation, device: Device | None) -> Device | None:
    if device is not None and (device.firm_id != firm.pk or device.revoked_at is not None):
        raise ServiceError(
            "unknown_device",
            _("This device is not one of this firm's active devices."),
            Kind.CONFLICT,
        )
    return device


@transaction.atomic
def set_default_device(
    firm: Organisation, app: str, device: Device | None, *, by: User | None
) -> ConnectorSettings:
    settings = settings_of(firm, app)
    settings.default_device = _own_active_device(firm, device)
    settings.save(update_fields=["default_device"])
    audit.record(
        firm, "connector.default_device_set", settings, actor=by, app=app,
        device_id=device.pk if device else None,
    )  # fmt: skip
    if device is not None:
        wake_on_commit(device.pk)
    return settings


def default_device(firm: Organisation, app: str) -> Device | None:
    device = settings_of(firm, app).default_device
    return device if device is not None and device.revoked_at is None else None


# ---- where documents go -------------------------------------------------------------------


def _receiving_devices(firm: Organisation, device: Device | None) -> list[Device]:
    """The connection's own device, else every active device of the firm (each keeps the
    folders, and any may become the default)."""
    return [device] if device is not None else list(Device.objects.active().filter(firm=firm))


def main_folder_for(firm: Organisation, app: str, connection: Connection | None = None) -> str:
    """The main folder the preview shows paths on: the connection's device, the default
    device, or a Windows downloader's default."""
    device = (connection.device if connection else None) or default_device(firm, app)
    return device.root_folder if device is not None else Device.default_root_folder("Windows")


# ---- connections --------------------------------------------------------------------------


def devices_keeping_folders(connection: Connection) -> list[Device]:
    """Its own device if it names one, else every active device of the firm."""
    if connection.device is not None:
        return [connection.device] if connection.device.revoked_at is None else []
    return list(Device.objects.active().filter(firm=connection.firm_id))


def _wake(connection: Connection, *, also: Iterable[int] = ()) -> None:
    for device_id in {device.pk for device in devices_keeping_folders(connection)} | set(also):
        wake_on_commit(device_id)


def _check_folders_free(
    route: routes.Route, firm: Organisation, exclude: Connection | None
) -> None:
    """Two connections must not share a folder: one package could book, move or delete the
    other's files."""
    today = timezone.localdate()
    mine = {folder.casefold() for folder in route.folders(today)}
    others = Connection.objects.filter(firm=firm, app__in=_folder_apps()).select_related(
        "dossier__company"
    )
    if exclude is not None:
        others = others.exclude(pk=exclude.pk)
    for other in others:
        theirs = {folder.casefold() for folder in routes.Route.of(other).folders(today)}
        dossier_folders = {folder.split("/")[0] for folder in theirs}
        shared_dossier_folder = other.dossier_id != route.dossier.pk and bool(
            dossier_folders & {folder.split("/")[0] for folder in mine}
        )
        if mine & theirs or shared_dossier_folder:
            raise ServiceError(
                "folder_taken",
                _("Another connection (%(connection)s) already uses these folders.")
                % {"connection": f"{PRESETS[other.app].name}, {other.dossier.company}"},
                Kind.CONFLICT,
            )


@transaction.atomic
def connect(
    dossier: Dossier,
    app: str,
    *,
    by: User | None,
    device: Device | None = None,
    dossier_code: str | None = None,
    path_template: str | None = None,
    file_template: str | None = None,
    direction_words: Mapping[str, str] | None = None,
    payload: str | None = None,
    addresses: Mapping[str, str] | None = None,
    auto_transfer: bool = False,
    start_date: dt.date | None = None,
) -> Connection:
    """Connect a dossier to a package; its folders appear on the devices at once (folder
    presets), or its documents go to the addresses given (e-mail presets)."""
    preset = preset_of(app)
    firm = dossier.firm
    if Connection.objects.filter(app=app, dossier=dossier).exists():
        raise ServiceError(
            "already_connected", _("This dossier is already connected."), Kind.CONFLICT
        )
    if preset.mechanism is Mechanism.EMAIL:
        connection = Connection.objects.create(
            firm=firm,
            app=app,
            dossier=dossier,
            addresses=mail.clean_addresses(preset, dict(addresses or {})),
            payload=routes.payload_of(payload or preset.payload.value).value,
            auto_transfer=auto_transfer,
            **({"start_date": start_date} if start_date else {}),
        )
        audit.record(firm, "connector.connected", connection, actor=by, app=app)
        return connection
    route = routes.build(
        dossier, preset, dossier_code=dossier_code, path_template=path_template,
        file_template=file_template, direction_words=direction_words, payload=payload,
    )  # fmt: skip
    _check_folders_free(route, firm, None)
    own_device = _own_active_device(firm, device)
    routes.check_fits_on_devices(route, _receiving_devices(firm, own_device))
    connection = Connection.objects.create(
        firm=firm,
        app=app,
        dossier=dossier,
        dossier_code=route.dossier_code,
        device=own_device,
        path_template=route.path_template,
        file_template=route.file_template,
        direction_words=dict(route.direction_words),
        payload=route.payload.value,
        auto_transfer=auto_transfer,
        **({"start_date": start_date} if start_date else {}),
    )
    audit.record(firm, "connector.connected", connection, actor=by, app=app)
    _wake(connection)
    return connection


_UNSET = object()


@transaction.atomic
def update_connection(
    connection: Connection,
    *,
    by: User | None,
    device: Device | object | None = _UNSET,
    dossier_code: str | None = None,
    path_template: str | None = None,
    file_template: str | None = None,
    direction_words: Mapping[str, str] | None = None,
    payload: str | None = None,
    addresses: Mapping[str, str] | None = None,
    auto_transfer: bool | None = None,
    start_date: dt.date | None = None,
) -> Connection:
    if auto_transfer is not None:
        connection.auto_transfer = auto_transfer
    if start_date is not None:
        connection.start_date = start_date
    preset = preset_of(connection.app)
    if preset.mechanism is Mechanism.EMAIL:
        if addresses is not None:
            connection.addresses = mail.clean_addresses(preset, dict(addresses))
        if payload is not None:
            connection.payload = routes.payload_of(payload).value
        connection.save()
        audit.record(connection.firm, "connector.connection_changed", connection, actor=by)
        return connection
    kept_until_now = [device.pk for device in devices_keeping_folders(connection)]
    route = routes.build(
        connection.dossier, preset_of(connection.app), base=connection,
        dossier_code=dossier_code, path_template=path_template, file_template=file_template,
        direction_words=direction_words, payload=payload,
    )  # fmt: skip
    _check_folders_free(route, connection.firm, connection)
    if device is not _UNSET:
        connection.device = _own_active_device(connection.firm, device)  # type: ignore[arg-type]
    routes.check_fits_on_devices(route, _receiving_devices(connection.firm, connection.device))
    connection.dossier_code = route.dossier_code
    connection.path_template = route.path_template
    connection.file_template = route.file_template
    connection.direction_words = dict(route.direction_words)
    connection.payload = route.payload.value
    connection.save()
    audit.record(connection.firm, "connector.connection_changed", connection, actor=by)
    _wake(connection, also=kept_until_now)
    return connection


@transaction.atomic
def disconnect(connection: Connection, *, by: User | None) -> None:
    """Forget the connection; the deliveries it made stay in the documents' history."""
    audit.record(connection.firm, "connector.disconnected", connection, actor=by)
    messages = list(connection.shipments.filter(message__isnull=False).values_list("message"))
    connection.shipments.all().delete()
    # A message still queued is not tried any more: its shipment is gone.
    Message.objects.filter(pk__in=[message_id for (message_id,) in messages]).delete()
    connection.delete()


def folders_for_device(device: Device) -> list[str]:
    """The dossier folders and sub-folders of every connection this device may receive
    documents for (see `devices_keeping_folders`), as soon as the connection is saved."""
    today = timezone.localdate()
    folders: set[str] = set()
    for connection in _folder_connections_of(device):
        for folder in routes.Route.of(connection).folders(today):
            folders.update((folder, folder.split("/")[0]))
    return sorted(folders)


def check_main_folder(device: Device, main_folder: str) -> None:
    """A device's new main folder is refused when a file of a connection it keeps the folders
    of could not be opened on Windows below it, as saving the connection would be."""
    for connection in _folder_connections_of(device):
        too_long = routes.too_long_below(routes.Route.of(connection), main_folder)
        if too_long is not None:
            raise delivery_folders.main_folder_too_long(
                connection.dossier.company.name, str(preset_of(connection.app).title), too_long
            )


def _folder_connections_of(device: Device) -> QuerySet[Connection]:
    """The folder connections whose folders `device` keeps (see `devices_keeping_folders`)."""
    if device.revoked_at is not None:
        return Connection.objects.none()
    served = Q(device=device) | Q(device__isnull=True)
    return (
        Connection.objects.filter(served, firm=device.firm_id, app__in=_folder_apps())
        .select_related("dossier__company")
        .order_by("id")
    )


# ---- what to send -------------------------------------------------------------------------


def documents_to_process(
    firm: Organisation, app: str, *, dossier: Dossier | None = None, kind: str | None = None
) -> QuerySet[Document]:
    """Documents of the dossiers connected to this package never sent through it."""
    preset_of(app)
    connections = Connection.objects.filter(firm=firm, app=app)
    documents = (
        Document.objects.filter(company__in=connections.values("dossier__company"))
        .exclude(status__in=eligibility.NEVER_SENT_STATUSES)
        .exclude(
            Exists(
                Shipment.objects.filter(
                    document=OuterRef("pk"), connection__firm=firm, connection__app=app
                )
            )
        )
        .select_related("company")
        .order_by("issue_date", "id")
    )
    if dossier is not None:
        documents = documents.filter(company=dossier.company)
    if kind:
        documents = documents.filter(kind=kind)
    return documents


def _connection_for(firm: Organisation, app: str, document: Document) -> Connection:
    connection = (
        Connection.objects.select_related("dossier__company", "device", "firm")
        .filter(firm=firm, app=app, dossier__company=document.company_id)
        .first()
    )
    if connection is None:
        raise ServiceError(
            "not_connected",
            _("%(document)s belongs to a dossier with no %(app)s connection.")
            % {"document": document, "app": PRESETS[app].name},
            Kind.CONFLICT,
        )
    return connection


def _why_not_deliverable(document: Document, payload: Payload) -> str:
    if document.status in eligibility.NEVER_SENT_STATUSES or payload is not Payload.PDF:
        problem = eligibility.why_not_deliverable(document)
        if problem:
            return problem
    if payload is not Payload.UBL and not document.pdf_sha256:
        return _("%(document)s has no PDF file yet.") % {"document": document}
    return ""


def _device_for(connection: Connection, device: Device | None) -> Device:
    chosen = device or connection.device or default_device(connection.firm, connection.app)
    if chosen is None:
        raise ServiceError(
            "no_device",
            _("Choose a device, or a default device in the %(app)s settings first.")
            % {"app": PRESETS[connection.app].name},
            Kind.CONFLICT,
        )
    return chosen


def _ship(
    connection: Connection,
    document: Document,
    device: Device,
    *,
    origin: Shipment.Origin,
    by: User | None,
) -> list[Delivery]:
    """Queue each file of a document; nothing when it already went through this connection
    (unless sent again by hand)."""
    route = routes.Route.of(connection)
    facts = route.facts(
        kind=document.kind, number=document.number, issue_date=document.issue_date,
        id=document.pk,
    )  # fmt: skip
    deliveries = []
    try:
        with transaction.atomic():
            for part, path in route.paths(facts):
                delivery = delivery_services.queue_delivery(
                    device,
                    relative_path=path,
                    blob=routes.blob(document, part),
                    source=document,
                    company=document.company,
                    by=by,
                )
                Shipment.objects.create(
                    connection=connection, document=document, part=part,
                    delivery=delivery, origin=origin,
                )  # fmt: skip
                deliveries.append(delivery)
    except IntegrityError:
        return []
    return deliveries


def _folder_preset(app: str) -> Preset:
    preset = preset_of(app)
    if preset.mechanism is not Mechanism.FOLDER:
        raise ServiceError(
            "sent_by_email",
            _("%(app)s takes documents by e-mail, not through a device.") % {"app": preset.title},
            Kind.CONFLICT,
        )
    return preset


def _plan(
    firm: Organisation, app: str, documents: Iterable[Document]
) -> list[tuple[Connection, Document]]:
    """Each document with its connection; the first that cannot go refuses the batch."""
    planned = []
    for document in documents:
        connection = _connection_for(firm, app, document)
        problem = _why_not_deliverable(document, Payload(connection.payload))
        if problem:
            raise ServiceError("not_deliverable", problem, Kind.INVALID)
        planned.append((connection, document))
    return planned


@transaction.atomic
def send(
    firm: Organisation,
    app: str,
    documents: Iterable[Document],
    *,
    device: Device | None = None,
    by: User | None,
    origin: Shipment.Origin = Shipment.Origin.ACCOUNTANT,
) -> list[Delivery]:
    """Queue documents of connected dossiers (documents to process). All or nothing: one
    document that cannot go stops the batch, with the reason. A document already sent
    through this connection is not sent again: only `send_again` does that."""
    _folder_preset(app)
    _own_active_device(firm, device)
    planned = [
        (connection, document, _device_for(connection, device))
        for connection, document in _plan(firm, app, documents)
    ]
    deliveries = []
    for connection, document, chosen in planned:
        deliveries += _ship(connection, document, chosen, origin=origin, by=by)
    return deliveries


@transaction.atomic
def send_again(
    firm: Organisation, app: str, document: Document, *, by: User | None
) -> list[Delivery]:
    """Send a document once more, by hand: the only way a file the package took away (or
    Venice already has) is placed again."""
    _folder_preset(app)
    connection = _connection_for(firm, app, document)
    problem = _why_not_deliverable(document, Payload(connection.payload))
    if problem:
        raise ServiceError("not_deliverable", problem, Kind.INVALID)
    last = Shipment.objects.filter(connection=connection, document=document).order_by("-id")
    previous = last.select_related("delivery__device").first()
    earlier = previous.delivery if previous is not None else None
    device = connection.device or default_device(firm, app)
    if device is None and earlier is not None and earlier.device.revoked_at is None:
        device = earlier.device
    deliveries = _ship(
        connection, document, _device_for(connection, device),
        origin=Shipment.Origin.AGAIN, by=by,
    )  # fmt: skip
    audit.record(firm, "connector.sent_again", document, actor=by, app=app)
    return deliveries


def history(connection: Connection, document: Document | None = None) -> list[Shipment]:
    shipments = Shipment.objects.filter(connection=connection)
    if document is not None:
        shipments = shipments.filter(document=document)
    return list(
        shipments.select_related(
            "document", "delivery__device", "delivery__queued_by", "message__queued_by"
        ).order_by("-id")[:200]
    )


def latest_shipments(app: str, documents: Sequence[Document]) -> dict[int, Delivery | Message]:
    """The latest delivery or message of each document made through this package, by
    document id."""
    latest: dict[int, Delivery | Message] = {}
    shipments = (
        Shipment.objects.filter(connection__app=app, document__in=[d.pk for d in documents])
        .select_related("delivery", "message")
        .order_by("-created_at", "-id")
    )
    for shipment in shipments:
        sent = shipment.delivery or shipment.message
        if sent is not None:
            latest.setdefault(shipment.document_id, sent)
    return latest


# ---- e-mail presets: one message per document ------------------------------------------


def _mail(
    connection: Connection, document: Document, *, origin: Shipment.Origin, by: User | None
) -> list[Message]:
    """Queue the message of a document to the address its kind goes to; nothing when it
    already went through this connection (unless sent again by hand)."""
    message = mail.new_message(
        connection, kind=document.kind, number=document.number,
        issue_date=document.issue_date, total=document.total, currency=document.currency,
    )  # fmt: skip
    message.queued_by = by
    try:
        with transaction.atomic():
            message.save()
            Shipment.objects.create(
                connection=connection, document=document, part="email", message=message,
                origin=origin,
            )  # fmt: skip
    except IntegrityError:
        return []
    audit.record(
        connection.firm, "connector.email_queued", message, actor=by, app=connection.app,
        document_id=document.pk, to=message.to,
    )  # fmt: skip
    enqueue_on_commit(send_message, message.pk)
    return [message]


@transaction.atomic
def mail_documents(
    firm: Organisation,
    app: str,
    documents: Iterable[Document],
    *,
    by: User | None,
    origin: Shipment.Origin = Shipment.Origin.ACCOUNTANT,
) -> list[Message]:
    """`send` for e-mail presets: one message per document, all or nothing; a document
    already sent through this connection is not sent again (only `mail_again` does that)."""
    if not by_email(app):
        raise ServiceError(
            "sent_by_device",
            _("%(app)s takes documents through a device, not by e-mail.")
            % {"app": preset_of(app).title},
            Kind.CONFLICT,
        )
    messages = []
    for connection, document in _plan(firm, app, documents):
        messages += _mail(connection, document, origin=origin, by=by)
    return messages


@transaction.atomic
def mail_again(
    firm: Organisation, app: str, document: Document, *, by: User | None
) -> list[Message]:
    """Send a document's message once more, by hand: the only way a package that refuses
    duplicates gets it twice."""
    connection = _connection_for(firm, app, document)
    problem = _why_not_deliverable(document, Payload(connection.payload))
    if problem:
        raise ServiceError("not_deliverable", problem, Kind.INVALID)
    messages = _mail(connection, document, origin=Shipment.Origin.AGAIN, by=by)
    audit.record(firm, "connector.sent_again", document, actor=by, app=app)
    return messages


@background
def send_message(message_id: int) -> str:
    """The background task of each try. It lives here, not in `tasks`, because the services
    that queue it (sending, and each retry) would otherwise import `tasks`, which imports them."""
    state = attempt_message(message_id)
    logger.info("package connector message=%d state=%s", message_id, state)
    return state


@background
def send_messages(message_ids: list[int]) -> list[str]:
    """The nightly transfer's task: one try at each of a few messages. A message the server
    did not take yet is tried again on its own (`send_message`)."""
    states = [attempt_message(message_id) for message_id in message_ids]
    logger.info("package connector messages=%s states=%s", message_ids, states)
    return states


def attempt_message(message_id: int) -> str:
    """One try at handing a queued message to the SMTP server (the background task's work):
    delivered when the server accepts it, tried again later on a temporary refusal, failed
    on a permanent one, after the last try, or when it is too big to send. Returns its state."""
    shipment = (
        Shipment.objects.select_related("message", "connection__firm", "document__company")
        .filter(message=message_id)
        .first()
    )
    if shipment is None or shipment.message is None:
        return "gone"  # disconnected meanwhile
    if shipment.message.state != Message.State.QUEUED:
        return shipment.message.state
    outcome = mail.hand_over(shipment.message, shipment.connection, shipment.document)
    return _record(shipment, outcome)


@transaction.atomic
def _record(shipment: Shipment, outcome: mail.Outcome) -> str:
    assert shipment.message_id is not None  # an e-mail preset's shipment
    message = Message.objects.select_for_update().get(pk=shipment.message_id)
    if message.state != Message.State.QUEUED:
        return message.state
    now = timezone.now()
    waits = settings.LEDGERDROP_CONNECTOR_EMAIL_RETRY_SECONDS
    message.attempts += 1
    message.answer = outcome.answer
    message.next_attempt_at = None
    firm = shipment.connection.firm
    # The reasons keep the service's own answer as a reason too, to be said in any language.
    answer = outcome.reason or outcome.answer
    if outcome.accepted:
        message.state = Message.State.DELIVERED
        message.delivered_at = now
        message.set_failure("", {})
        audit.record(firm, "connector.email_delivered", message, answer=outcome.answer)
    elif outcome.temporary and message.attempts <= len(waits):
        wait = dt.timedelta(seconds=waits[message.attempts - 1])
        message.next_attempt_at = now + wait
        message.set_failure("not_taken_yet", {"answer": answer, "when": (now + wait).isoformat()})
        enqueue_on_commit_after(wait, send_message, message.pk)
    else:
        message.state = Message.State.FAILED
        if outcome.temporary:
            message.set_failure(
                "refused_after_tries", {"count": message.attempts, "answer": answer}
            )
        else:
            message.set_failure("refused", {"answer": answer})
        audit.record(firm, "connector.email_failed", message, reason=message.failure_message)
    message.save()
    return message.state


# ---- nightly automatic transfer (S8's rules) ----------------------------------------------


# Connections per transaction: about 50,000 documents at 100 per dossier.
AUTOSEND_BATCH = 500
# Messages per sending task: each still retried on its own (`send_message`).
MESSAGES_PER_TASK = 100


@dataclass
class AutosendReport:
    # Files queued through devices, and messages queued for e-mail presets.
    queued: int = 0
    # Documents the rules chose whose file name the connection's templates cannot give.
    refused: int = 0
    skipped_connections: dict[int, str] = field(default_factory=dict)


def run_autosend(firm: Organisation | None = None, *, on: dt.date | None = None) -> AutosendReport:
    """Queue every document that BOB Demat's nightly rules would send, through each package
    connection that has automatic transfer on: a few statements per batch of connections
    whatever the number of documents (`nightly`). Idempotent: a document goes once per
    connection, so two runs (or two workers at once) queue it once. A connection with no
    device to send to is skipped until it has one. The audit gets one row per connection
    that sent something, not one per document."""
    on = on or timezone.localdate()
    report = AutosendReport()
    connections = (
        Connection.objects.filter(auto_transfer=True, app__in=list(PRESETS))
        .select_related("firm", "device", "dossier__company")
        .order_by("app", "pk")
    )
    if firm is not None:
        connections = connections.filter(firm=firm)
    defaults = {
        (chosen.firm_id, chosen.app): chosen.default_device
        for chosen in ConnectorSettings.objects.filter(
            firm__in=connections.values("firm"),
            default_device__isnull=False,
            default_device__revoked_at__isnull=True,
        ).select_related("default_device")
    }
    by_app: dict[str, list[tuple[Connection, Device | None]]] = {}
    for connection in connections:  # per connection, never per document
        device = None
        if not by_email(connection.app):
            device = connection.device or defaults.get((connection.firm_id, connection.app))
            if device is None or device.revoked_at is not None:
                report.skipped_connections[connection.pk] = _(
                    "Choose a device, or a default device in the %(app)s settings first."
                ) % {"app": PRESETS[connection.app].name}
                continue
        by_app.setdefault(connection.app, []).append((connection, device))
    # One package a batch: a document then goes through one connection of a firm (nightly.link).
    for runnable in by_app.values():
        for start in range(0, len(runnable), AUTOSEND_BATCH):
            _autosend_batch(runnable[start : start + AUTOSEND_BATCH], on, report)
    return report


def _autosend_batch(
    batch: list[tuple[Connection, Device | None]], on: dt.date, report: AutosendReport
) -> None:
    ids = [connection.pk for connection, _device in batch]

    def queue() -> tuple[Counter[object], int]:
        at = timezone.now()
        tonight = nightly.candidates(ids, on)
        if by_email(batch[0][0].app):
            queued, message_ids = nightly.insert_messages(batch, tonight, at)
            for start in range(0, len(message_ids), MESSAGES_PER_TASK):
                enqueue_on_commit(send_messages, message_ids[start : start + MESSAGES_PER_TASK])
            refused = 0
        else:
            queued, refused = nightly.queue_files(batch, tonight, at)
        _audit_night(batch, queued)
        return queued, refused

    # Two runs at once take turns per batch; the second then finds it all sent. Another run
    # or a hand-sent copy may send some of these documents first (the unique first
    # shipment): the batch again, which now leaves them out.
    queued, refused = in_turns(Connection.objects.filter(pk__in=ids), queue)
    report.queued += sum(queued.values())
    report.refused += refused


def _audit_night(batch: list[tuple[Connection, Device | None]], queued: Counter[object]) -> None:
    by_firm: dict[int, list[tuple[Connection, Device | None]]] = {}
    for connection, device in batch:
        if queued[connection.pk]:
            by_firm.setdefault(connection.firm_id, []).append((connection, device))
    for pairs in by_firm.values():
        audit.record_many(
            pairs[0][0].firm,
            "connector.autosent",
            [
                (
                    connection,
                    {
                        "app": connection.app,
                        "queued": queued[connection.pk],
                        "device_id": device.pk if device else None,
                    },
                )
                for connection, device in pairs
            ],
        )
