"""What BOB Demat adds to the apps below it, through their registries: its entry in the
catalogue of applications (accounts), the folders each device keeps and the main folders its
files fit in (delivery), and on the documents pages the Sage icon, the transfer history, the
*send to the accountant* button and the note on nightly transfers (documents.slots).
`register()` runs once, at start-up."""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _

from ledgerdrop.accounts import applications
from ledgerdrop.accounts.models import Dossier, Organisation, User
from ledgerdrop.connectors import to_process
from ledgerdrop.connectors.bob_demat import services
from ledgerdrop.connectors.bob_demat.models import DematSettings
from ledgerdrop.delivery import folders
from ledgerdrop.delivery.models import Delivery
from ledgerdrop.documents import slots
from ledgerdrop.documents.models import Document

KEY = "bob-demat"


def register() -> None:
    applications.APPLICATIONS.register(KEY, APPLICATION)
    folders.register(services.folders_for_device)
    folders.MAIN_FOLDER_CHECKS.register(KEY, services.check_main_folder)
    slots.TRANSFER_SOURCES.register(KEY, slots.TransferSource(transfers=transfers, icon=icon))
    slots.LIST_NOTES.register(KEY, autosend_note)
    slots.DETAIL_PANELS.register(KEY, document_panel)
    to_process.DOCUMENTS_TO_PROCESS.register(KEY, _documents_to_process)


def _documents_to_process(
    firm: Organisation, dossier: Dossier | None, kind: str | None
) -> QuerySet[Document]:
    return services.documents_to_process(firm, dossier=dossier, kind=kind)


# ---- the catalogue of applications (S4) ----------------------------------------------------


def _is_enabled(firm: Organisation) -> bool:
    return DematSettings.objects.filter(firm=firm, enabled=True).exists()


def _switch(firm: Organisation, enabled: bool, by: User | None) -> None:
    if enabled:
        services.enable(firm, by=by)
    else:
        services.disable(firm, by=by)


APPLICATION = applications.Application(
    slug=KEY,
    name="Sage BOB Demat",
    section="accounting",
    section_label=_("Accounting"),
    description=_(
        "Places the documents of your dossiers in the folders that BOB Demat imports, "
        "through the Accounting Downloader."
    ),
    is_enabled=_is_enabled,
    switch=_switch,
    menu_label=_("Sage Demat"),
    menu_url_name="bob-demat",
)


# ---- the documents pages (S6, S9) ----------------------------------------------------------


def transfers(documents: Sequence[Document]) -> dict[int, slots.Transfer]:
    """The latest delivery of each document to an accountant's device, as the client sees it."""
    if not documents:
        return {}
    latest: dict[int, Delivery] = {}
    deliveries = (
        Delivery.objects.carrying(Document, [document.pk for document in documents])
        .select_related("device")
        .order_by("-queued_at", "-id")
    )
    for delivery in deliveries:
        if delivery.source_id is not None:
            latest.setdefault(delivery.source_id, delivery)
    return {document_id: _transfer(delivery) for document_id, delivery in latest.items()}


def _transfer(delivery: Delivery) -> slots.Transfer:
    error = None
    if delivery.state == Delivery.State.FAILED:
        error = delivery.failure_message or delivery.failure_reason or None
    elif delivery.waiting_reason:
        # Still queued, but the device cannot place anything: the client sees why (the
        # reason only, not the accountant's folders).
        error = delivery.waiting_reason
    return slots.Transfer(
        state=delivery.state,
        delivered_at=delivery.delivered_at,
        error=error,
        at=delivery.queued_at,
        by=KEY,
    )


def icon(transfer: slots.Transfer) -> str:
    """The Sage icon: grey while on its way, green once fetched, red when something is wrong."""
    return render_to_string("bob_demat/_sage_icon.html", {"transfer": transfer})


def autosend_note(request: HttpRequest | None, company: Organisation) -> str:
    """Tells the client which accountants receive its documents by themselves, every night."""
    firms = services.firms_receiving_automatically(company)
    return render_to_string("bob_demat/_autosend_note.html", {"firms": firms}, request=request)


def document_panel(request: HttpRequest | None, document: Document) -> str:
    """Every delivery of an issued or received document (who sent it, when, to which device,
    fetched when and where, or why it failed) and the client's *send to the accountant*
    button, or why the client cannot send it from here."""
    if document.is_draft:
        return ""
    deliveries = (
        Delivery.objects.carrying(Document, [document.pk])
        .select_related("device", "queued_by")
        .order_by("-id")
    )
    context = {
        "document": document,
        "deliveries": list(deliveries),
        "blocker": services.why_client_cannot_send(document.company),
    }
    return render_to_string("bob_demat/_document_panel.html", context, request=request)
