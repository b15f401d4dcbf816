"""The connector's state changes: it decides *what* goes *where*; `delivery` moves the bytes."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.db.models import Q

from ledgerdrop.accounts.models import Dossier, Organisation, User
from ledgerdrop.connectors.bob_demat import naming
from ledgerdrop.connectors.bob_demat.models import DematConnection, DematSettings
from ledgerdrop.core import audit, storage
from ledgerdrop.delivery import services as delivery_services
from ledgerdrop.delivery.models import Delivery, Device
from ledgerdrop.delivery.wakeups import hub
from ledgerdrop.documents.models import Document


class ConnectorError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@transaction.atomic
def enable(firm: Organisation, *, by: User | None) -> DematSettings:
    demat, _ = DematSettings.objects.get_or_create(firm=firm)
    if not demat.enabled:
        demat.enabled = True
        demat.save(update_fields=["enabled"])
        audit.record(firm, "bob_demat.enabled", demat, actor=by)
    return demat


@transaction.atomic
def set_default_device(firm: Organisation, device: Device | None, *, by: User | None) -> None:
    if device is not None and device.firm_id != firm.pk:
        raise ConnectorError("foreign_device", "This device does not belong to this firm.")
    demat, _ = DematSettings.objects.get_or_create(firm=firm)
    demat.default_device = device
    demat.save(update_fields=["default_device"])
    audit.record(
        firm, "bob_demat.default_device_set", demat, actor=by, device_id=device and device.pk
    )


@transaction.atomic
def connect(
    dossier: Dossier, dossier_code: str, *, device: Device | None = None, by: User | None
) -> DematConnection:
    connection = DematConnection(dossier=dossier, dossier_code=dossier_code, device=device)
    connection.full_clean(exclude=["dossier"])
    connection.save()
    audit.record(dossier.firm, "bob_demat.connected", connection, actor=by, code=dossier_code)
    target = device or _default_device(dossier.firm)
    if target is not None:
        # The device's waiting poll answers with the new folders, so they appear at once (S5).
        transaction.on_commit(lambda: hub.wake(target.pk))
    return connection


def _default_device(firm: Organisation) -> Device | None:
    demat = DematSettings.objects.filter(firm=firm).select_related("default_device").first()
    return demat.default_device if demat else None


@transaction.atomic
def send(
    documents: Iterable[Document], device: Device, *, by: User | None = None
) -> list[Delivery]:
    """Queue documents of connected dossiers for a device of the firm (S6)."""
    deliveries = []
    for document in documents:
        connection = (
            DematConnection.objects.select_related("dossier")
            .filter(dossier__company=document.company, dossier__firm=device.firm)
            .first()
        )
        if connection is None:
            raise ConnectorError(
                "not_connected",
                f"{document} belongs to a dossier that has no BOB Demat connection.",
            )
        deliveries.append(
            delivery_services.queue_delivery(
                device,
                relative_path=naming.relative_path(connection.dossier_code, document),
                blob=storage.Blob(sha256=document.ubl_sha256, size=document.ubl_size),
                document=document,
                by=by,
            )
        )
    return deliveries


def folders_for_device(device: Device) -> list[str]:
    """The `achats` and `ventes` folders of every dossier this device serves."""
    is_default = DematSettings.objects.filter(firm=device.firm_id, default_device=device).exists()
    served = Q(device=device) | (Q(device__isnull=True) if is_default else Q(pk__in=[]))
    codes = DematConnection.objects.filter(served, dossier__firm=device.firm_id).values_list(
        "dossier_code", flat=True
    )
    return [
        f"{code}/{folder}"
        for code in codes
        for folder in (naming.PURCHASES_FOLDER, naming.SALES_FOLDER)
    ]
