"""The connector's state changes. It decides *what* goes *where* (which documents, which device,
which folder and name); `delivery` moves the bytes and knows nothing about BOB."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from ledgerdrop.accounts import audit
from ledgerdrop.accounts.models import Dossier, Organisation, User
from ledgerdrop.connectors.bob_demat import eligibility, naming, nightly
from ledgerdrop.connectors.bob_demat.models import (
    AutosendRun,
    DematConnection,
    DematSettings,
    Transmission,
    validate_dossier_code,
)
from ledgerdrop.core import periodic, storage
from ledgerdrop.core.database import in_turns
from ledgerdrop.core.errors import Kind, ServiceError
from ledgerdrop.delivery import folders
from ledgerdrop.delivery import services as delivery_services
from ledgerdrop.delivery.models import Delivery, Device
from ledgerdrop.delivery.wakeups import wake_on_commit
from ledgerdrop.documents.models import Document

# ---- settings (S4, S7) --------------------------------------------------------------------


def settings_of(firm: Organisation) -> DematSettings:
    demat, _created = DematSettings.objects.select_related("default_device").get_or_create(
        firm=firm
    )
    return demat


@transaction.atomic
def enable(firm: Organisation, *, by: User | None) -> DematSettings:
    demat = settings_of(firm)
    if not demat.enabled:
        demat.enabled = True
        demat.save(update_fields=["enabled"])
        audit.record(firm, "bob_demat.enabled", demat, actor=by)
    return demat


@transaction.atomic
def disable(firm: Organisation, *, by: User | None) -> DematSettings:
    """Switching the app off hides its pages; connections and history are kept for later."""
    demat = settings_of(firm)
    if demat.enabled:
        demat.enabled = False
        demat.save(update_fields=["enabled"])
        audit.record(firm, "bob_demat.disabled", demat, actor=by)
    return demat


def _own_active_device(firm: Organisation, device: Device | None) -> Device | None:
    if device is not None and (device.firm_id != firm.pk or device.revoked_at is not None):
        raise ServiceError(
            "unknown_device",
            _("This device is not one of this firm's active devices."),
            Kind.CONFLICT,
        )
    return device


@transaction.atomic
def set_default_device(firm: Organisation, device: Device | None, *, by: User | None) -> None:
    demat = settings_of(firm)
    demat.default_device = _own_active_device(firm, device)
    demat.save(update_fields=["default_device"])
    audit.record(
        firm,
        "bob_demat.default_device_set",
        demat,
        actor=by,
        device_id=device.pk if device else None,
    )
    if device is not None:
        wake_on_commit(device.pk)


def default_device(firm: Organisation) -> Device | None:
    device = settings_of(firm).default_device
    return device if device is not None and device.revoked_at is None else None


# ---- connections (S5, S8) -----------------------------------------------------------------


def _check_code(firm: Organisation, code: str, exclude: DematConnection | None = None) -> str:
    code = code.strip()
    try:
        validate_dossier_code(code)
    except ValidationError as exc:
        raise ServiceError("invalid_dossier_code", " ".join(exc.messages), Kind.INVALID) from exc
    clash = DematConnection.objects.filter(firm=firm, dossier_code__iexact=code)
    if exclude is not None:
        clash = clash.exclude(pk=exclude.pk)
    if clash.exists():
        raise ServiceError(
            "dossier_code_taken",
            _("Another dossier of this firm already uses the code %(code)s.") % {"code": code},
            Kind.CONFLICT,
        )
    return code


def devices_keeping_folders(connection: DematConnection) -> list[Device]:
    """The devices that keep this dossier's `achats` and `ventes`: its own device if it names
    one, else every active device of the firm, since any of them can be chosen when sending."""
    if connection.device is not None:
        return [connection.device] if connection.device.revoked_at is None else []
    return list(Device.objects.active().filter(firm=connection.firm_id))


def _wake_devices_keeping_folders(connection: DematConnection, *, also: Iterable[int] = ()) -> None:
    # Their waiting polls answer with the new folders, so they appear at once (S5).
    for device_id in {device.pk for device in devices_keeping_folders(connection)} | set(also):
        wake_on_commit(device_id)


@transaction.atomic
def connect(
    dossier: Dossier,
    dossier_code: str,
    *,
    device: Device | None = None,
    auto_transfer: bool = False,
    start_date: dt.date | None = None,
    by: User | None,
) -> DematConnection:
    firm = dossier.firm
    if DematConnection.objects.filter(dossier=dossier).exists():
        raise ServiceError(
            "already_connected", _("This dossier is already connected."), Kind.CONFLICT
        )
    connection = DematConnection.objects.create(
        firm=firm,
        dossier=dossier,
        dossier_code=_check_code(firm, dossier_code),
        device=_own_active_device(firm, device),
        auto_transfer=auto_transfer,
        **({"start_date": start_date} if start_date else {}),
    )
    audit.record(firm, "bob_demat.connected", connection, actor=by, code=connection.dossier_code)
    _wake_devices_keeping_folders(connection)
    return connection


_UNSET = object()


@transaction.atomic
def update_connection(
    connection: DematConnection,
    *,
    by: User | None,
    dossier_code: str | None = None,
    device: Device | object | None = _UNSET,
    auto_transfer: bool | None = None,
    start_date: dt.date | None = None,
) -> DematConnection:
    changes: dict[str, object] = {}
    # A device that kept the folders until now learns of the change too.
    kept_until_now = [device.pk for device in devices_keeping_folders(connection)]
    if dossier_code is not None:
        connection.dossier_code = _check_code(connection.firm, dossier_code, exclude=connection)
        changes["dossier_code"] = connection.dossier_code
    if device is not _UNSET:
        connection.device = _own_active_device(connection.firm, device)  # type: ignore[arg-type]
        changes["device_id"] = connection.device.pk if connection.device else None
    if auto_transfer is not None:
        connection.auto_transfer = auto_transfer
        changes["auto_transfer"] = auto_transfer
    if start_date is not None:
        connection.start_date = start_date
        changes["start_date"] = start_date.isoformat()
    connection.save()
    audit.record(connection.firm, "bob_demat.connection_changed", connection, actor=by, **changes)
    _wake_devices_keeping_folders(connection, also=kept_until_now)
    return connection


@transaction.atomic
def disconnect(connection: DematConnection, *, by: User | None) -> None:
    """Forget the connection; deliveries already made stay in the history."""
    audit.record(
        connection.firm, "bob_demat.disconnected", connection, actor=by,
        code=connection.dossier_code,
    )  # fmt: skip
    connection.transmissions.all().delete()
    connection.delete()


def folders_for_device(device: Device) -> list[str]:
    """The `achats` and `ventes` folders of every dossier this device may receive documents
    for: the connections that name it, and those that name no device (see
    `devices_keeping_folders`). Whether a default device exists does not matter: the folders
    are there before anything is sent, in the order the help page sets things up."""
    if device.revoked_at is not None:
        return []
    served = Q(device=device) | Q(device__isnull=True)
    codes = DematConnection.objects.filter(served, firm=device.firm_id).values_list(
        "dossier_code", flat=True
    )
    return [
        f"{code}/{folder}"
        for code in codes
        for folder in (naming.PURCHASES_FOLDER, naming.SALES_FOLDER)
    ]


def check_main_folder(device: Device, main_folder: str) -> None:
    """A device's new main folder is refused when a file BOB Demat would place in the folders
    it keeps could not be opened on Windows below it. The names are short but the main folder
    may have up to 255 characters; the file it must leave room for is a purchase invoice (the
    longest kind's name) with a usual number, as the presets' preview samples."""
    if device.revoked_at is not None:
        return
    served = Q(device=device) | Q(device__isnull=True)
    connections = (
        DematConnection.objects.filter(served, firm=device.firm_id)
        .select_related("dossier__company")
        .order_by("id")
    )
    sample = Document(
        pk=1003,
        kind=Document.Kind.PURCHASE_INVOICE,
        number="F-88120",
        issue_date=timezone.localdate(),
    )
    for connection in connections:
        full = folders.on_device(main_folder, naming.relative_path(connection.dossier_code, sample))
        if folders.too_long_for_windows(main_folder, full):
            raise folders.main_folder_too_long(
                connection.dossier.company.name, "Sage BOB Demat", full
            )


# ---- what to send -------------------------------------------------------------------------


def documents_to_process(
    firm: Organisation, *, dossier: Dossier | None = None, kind: str | None = None
) -> QuerySet[Document]:
    """Documents of the firm's connected dossiers never transmitted to it (S6)."""
    documents = (
        Document.objects.filter(
            company__accountant_links__firm=firm,
            company__accountant_links__bob_demat_connection__isnull=False,
        )
        .exclude(status__in=eligibility.NEVER_SENT_STATUSES)
        .exclude(
            Exists(Transmission.objects.filter(document=OuterRef("pk"), connection__firm=firm))
        )
        .select_related("company")
        .order_by("issue_date", "id")
    )
    if dossier is not None:
        documents = documents.filter(company=dossier.company)
    if kind:
        documents = documents.filter(kind=kind)
    return documents


def _connection_for(firm: Organisation, document: Document) -> DematConnection:
    connection = (
        DematConnection.objects.select_related("dossier")
        .filter(firm=firm, dossier__company=document.company_id)
        .first()
    )
    if connection is None:
        raise ServiceError(
            "not_connected",
            _("%(document)s belongs to a dossier with no Sage BOB Demat connection.")
            % {"document": document},
            Kind.CONFLICT,
        )
    return connection


def _check_deliverable(document: Document) -> None:
    problem = eligibility.why_not_deliverable(document)
    if problem:
        raise ServiceError("not_deliverable", problem, Kind.INVALID)


def _deliver(
    connection: DematConnection, document: Document, device: Device, *, by: User | None
) -> Delivery:
    """The document's file, under its BOB folder and name, queued for the device."""
    return delivery_services.queue_delivery(
        device,
        relative_path=naming.relative_path(connection.dossier_code, document),
        blob=storage.Blob(sha256=document.ubl_sha256, size=document.ubl_size),
        source=document,
        company=document.company,
        by=by,
    )


def _queue(
    connection: DematConnection,
    document: Document,
    device: Device,
    *,
    origin: Transmission.Origin,
    by: User | None,
) -> Delivery | None:
    """Queue one document; None when another transfer transmitted it first."""
    try:
        with transaction.atomic():
            delivery = _deliver(connection, document, device, by=by)
            Transmission.objects.create(
                connection=connection, document=document, first_delivery=delivery, origin=origin
            )
    except IntegrityError:
        return None
    return delivery


@transaction.atomic
def send(
    firm: Organisation,
    documents: Iterable[Document],
    device: Device,
    *,
    by: User | None,
    origin: Transmission.Origin = Transmission.Origin.ACCOUNTANT,
) -> list[Delivery]:
    """Queue documents of connected dossiers for a device of the firm (S6). All or nothing:
    one document that cannot go stops the whole batch, with the reason."""
    _own_active_device(firm, device)
    planned = []
    for document in documents:
        _check_deliverable(document)
        planned.append((_connection_for(firm, document), document))
    deliveries = []
    for connection, document in planned:
        delivery = _queue(connection, document, device, origin=origin, by=by)
        if delivery is not None:
            deliveries.append(delivery)
    return deliveries


@transaction.atomic
def send_again(firm: Organisation, document: Document, *, by: User | None) -> Delivery:
    """A new delivery of a document already transmitted: same folder, same name (the device
    recognises identical bytes and does not make a second copy)."""
    connection = _connection_for(firm, document)
    _check_deliverable(document)
    device = connection.device or default_device(firm)
    last = (
        Delivery.objects.carrying(Document, [document.pk]).filter(firm=firm).order_by("-id").first()
    )
    if last is not None and last.device.revoked_at is None:
        device = device or last.device
    if device is None:
        raise ServiceError(
            "no_device",
            _("Choose a default device in the Sage Demat settings first."),
            Kind.CONFLICT,
        )
    delivery = _deliver(connection, document, device, by=by)
    audit.record(firm, "bob_demat.sent_again", document, actor=by, delivery_id=delivery.pk)
    return delivery


def why_client_cannot_send(company: Organisation) -> str:
    """Why the client's *send to the accountant* button is unavailable, or "" when it works."""
    connections = DematConnection.objects.filter(dossier__company=company).select_related("firm")
    if not connections:
        return _("Your accountant has not connected this company to Sage BOB Demat yet.")
    if not any(c.device_id or default_device(c.firm) for c in connections):
        return _(
            "Your accountant has not chosen a default device for Sage BOB Demat yet, so "
            "documents cannot be sent from here. Ask them to set one."
        )
    return ""


@transaction.atomic
def send_to_accountant(
    company: Organisation, document: Document, *, by: User | None
) -> list[Delivery]:
    """The client sends a document to its accountants (S9): to the dossier's device, else the
    firm's default device. Refused, with the reason, when no linked firm can receive it."""
    if document.company_id != company.pk:
        raise ServiceError("not_found", _("No such document."), Kind.NOT_FOUND)
    _check_deliverable(document)
    connections = list(
        DematConnection.objects.select_related("firm", "device").filter(dossier__company=company)
    )
    if not connections:
        raise ServiceError(
            "not_connected",
            _("Your accountant has not connected this company to Sage BOB Demat yet."),
            Kind.CONFLICT,
        )
    deliveries = []
    for connection in connections:
        device = connection.device or default_device(connection.firm)
        if device is None:
            continue
        if Transmission.objects.filter(connection=connection, document=document).exists():
            deliveries.append(send_again(connection.firm, document, by=by))
            continue
        delivery = _queue(connection, document, device, origin=Transmission.Origin.CLIENT, by=by)
        if delivery is not None:
            deliveries.append(delivery)
    if not deliveries:
        raise ServiceError(
            "no_default_device",
            _(
                "Your accountant has not chosen a default device for Sage BOB Demat yet, so "
                "documents cannot be sent from here. Ask them to set one."
            ),
            Kind.CONFLICT,
        )
    audit.record(company, "bob_demat.sent_by_client", document, actor=by)
    return deliveries


# ---- nightly automatic transfer (S8) ------------------------------------------------------


# Connections per transaction: about 50,000 documents a statement at 100 per dossier.
AUTOSEND_BATCH = 500


@dataclass
class AutosendReport:
    queued: int = 0
    skipped_connections: dict[int, str] = field(default_factory=dict)
    # When each batch of connections was queued (its transmissions' `created_at`).
    batches: list[dt.datetime] = field(default_factory=list)

    def deliveries(self) -> QuerySet[Delivery]:
        """What this run queued, oldest first (a night's run may be a million: a query)."""
        made = Transmission.objects.filter(
            origin=Transmission.Origin.AUTOMATIC, created_at__in=self.batches
        )
        return Delivery.objects.filter(pk__in=made.values("first_delivery")).order_by("id")


def run_autosend(firm: Organisation | None = None, *, on: dt.date | None = None) -> AutosendReport:
    """Queue every document that the rules say goes tonight, a few statements per batch of
    connections whatever the number of documents (nightly.py). Idempotent: a document is
    transmitted once per connection, so two runs (or two workers at once) queue it once. Each
    connection keeps a record of what its run did (`AutosendRun`), and the audit one row per
    connection that sent something, not one per document."""
    on = on or timezone.localdate()
    report = AutosendReport()
    connections = (
        DematConnection.objects.filter(auto_transfer=True)
        .select_related("firm", "device")
        .order_by("pk")
    )
    if firm is not None:
        connections = connections.filter(firm=firm)
    defaults = {
        demat.firm_id: demat.default_device
        for demat in DematSettings.objects.filter(
            firm__in=connections.values("firm")
        ).select_related("default_device")
        if demat.default_device is not None and demat.default_device.revoked_at is None
    }
    runnable: list[tuple[DematConnection, Device]] = []
    skipped: list[AutosendRun] = []
    for connection in connections:  # per connection, never per document
        default = defaults.get(connection.firm_id)
        device = connection.device or default
        reason = eligibility.why_autosend_cannot_run(default, device)
        if reason:
            report.skipped_connections[connection.pk] = reason
            now = timezone.now()
            skipped.append(
                AutosendRun(
                    connection=connection, started_at=now, finished_at=now, skipped_reason=reason
                )
            )
        else:
            assert device is not None
            runnable.append((connection, device))
    AutosendRun.objects.bulk_create(skipped)
    for start in range(0, len(runnable), AUTOSEND_BATCH):
        _autosend_batch(runnable[start : start + AUTOSEND_BATCH], on, report)
    return report


def _autosend_batch(
    batch: list[tuple[DematConnection, Device]], on: dt.date, report: AutosendReport
) -> None:
    ids = [connection.pk for connection, _device in batch]

    def queue() -> tuple[dt.datetime, Counter[object]]:
        at = timezone.now()
        refused = nightly.refused_counts(ids, on)
        picked, params = nightly.picked(ids, on)
        link, link_params = nightly.link(Transmission.Origin.AUTOMATIC, at)
        queued = delivery_services.queue_selected(
            picked,
            params,
            source=Document,
            at=at,
            order_by=nightly.ORDER,
            link=link,
            link_params=link_params,
            wake={device.pk for _connection, device in batch},
        )
        _record_runs(batch, at, queued, refused)
        return at, queued

    # Two runs at once take turns per batch; the second then finds it all sent. Another
    # transfer or a hand-sent copy may transmit some of these documents first (the unique
    # transmission): the batch again, which now leaves them out.
    at, queued = in_turns(DematConnection.objects.filter(pk__in=ids), queue)
    report.batches.append(at)
    report.queued += sum(queued.values())


def _record_runs(
    batch: list[tuple[DematConnection, Device]],
    at: dt.datetime,
    queued: Counter[object],
    refused: dict[int, int],
) -> None:
    finished = timezone.now()
    AutosendRun.objects.bulk_create(
        AutosendRun(
            connection=connection,
            started_at=at,
            finished_at=finished,
            queued=queued[connection.pk],
            refused=refused.get(connection.pk, 0),
        )
        for connection, _device in batch
    )
    by_firm: dict[int, list[tuple[DematConnection, Device]]] = {}
    for connection, device in batch:
        if queued[connection.pk]:
            by_firm.setdefault(connection.firm_id, []).append((connection, device))
    for pairs in by_firm.values():
        audit.record_many(
            pairs[0][0].firm,
            "bob_demat.autosent",
            [
                (connection, {"queued": queued[connection.pk], "device_id": device.pk})
                for connection, device in pairs
            ],
        )


def _autosend_candidates(connection: DematConnection, on: dt.date) -> Iterator[Document]:
    """The documents of the dossier that the automatic transfer takes on that day, in date
    order: dated from the connection's start on, never transmitted, allowed by the eligibility."""
    candidates = (
        Document.objects.filter(
            company=connection.dossier.company_id,
            issue_date__gte=connection.start_date,
            issue_date__lte=on,
        )
        .exclude(
            Exists(Transmission.objects.filter(document=OuterRef("pk"), connection=connection))
        )
        .select_related("company")
        .order_by("issue_date", "id")
    )
    return (document for document in candidates if eligibility.goes_automatically(document))


def next_autosend_at(now: dt.datetime | None = None) -> dt.datetime:
    """When the next nightly run starts (LEDGERDROP_AUTOSEND_AT, local time)."""
    now = timezone.localtime(now)
    at = periodic.parse_time_of_day(django_settings.LEDGERDROP_AUTOSEND_AT)
    run = now.replace(hour=at.hour, minute=at.minute, second=0, microsecond=0)
    return run if run > now else run + dt.timedelta(days=1)


@dataclass(frozen=True)
class AutosendOutlook:
    """What a connection's page says about its automatic transfer (S8)."""

    next_run_at: dt.datetime
    # What a run would queue now, per document kind (kind value, label, count).
    would_send: list[tuple[str, str, int]]
    last_run: AutosendRun | None
    # Documents of the last run that failed on the device since, plus those it could not send.
    last_run_failures: int

    @property
    def would_send_total(self) -> int:
        return sum(count for _kind, _label, count in self.would_send)


def autosend_outlook(connection: DematConnection) -> AutosendOutlook:
    today = timezone.localdate()
    counts = Counter(document.kind for document in _autosend_candidates(connection, today))
    would_send = [
        (kind.value, str(kind.label), counts[kind.value])
        for kind in Document.Kind
        if counts[kind.value]
    ]
    last_run = connection.autosend_runs.order_by("-started_at", "-id").first()
    failures = 0
    if last_run is not None:
        failures = (
            last_run.refused
            + Delivery.objects.filter(
                state=Delivery.State.FAILED,
                pk__in=Transmission.objects.filter(
                    connection=connection,
                    origin=Transmission.Origin.AUTOMATIC,
                    created_at__gte=last_run.started_at,
                    created_at__lte=last_run.finished_at,
                ).values("first_delivery"),
            ).count()
        )
    return AutosendOutlook(
        next_run_at=next_autosend_at(),
        would_send=would_send,
        last_run=last_run,
        last_run_failures=failures,
    )


def firms_receiving_automatically(company: Organisation) -> list[Organisation]:
    """The accounting firms that receive this company's documents by the nightly transfer."""
    return [
        connection.firm
        for connection in DematConnection.objects.filter(
            dossier__company=company, auto_transfer=True
        ).select_related("firm")
    ]


def autosend_warnings(firm: Organisation) -> list[str]:
    """Why automatic transfer, switched on for some dossiers, cannot run (shown on the page)."""
    if not DematConnection.objects.filter(firm=firm, auto_transfer=True).exists():
        return []
    reason = eligibility.why_autosend_cannot_run(default_device(firm), default_device(firm))
    return [reason] if reason else []
