"""What the package connectors add to the apps below them, through their registries: one entry
per package in the catalogue of applications (accounts), the folders each device keeps and the
main folders their files fit in (delivery), and the status icon of the documents each one sent
(documents.slots)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _

from ledgerdrop.accounts import applications
from ledgerdrop.accounts.models import Dossier, Organisation, User
from ledgerdrop.connectors import to_process
from ledgerdrop.connectors.presets import services
from ledgerdrop.connectors.presets.catalogue import PRESETS, Mechanism, Preset
from ledgerdrop.connectors.presets.models import Message
from ledgerdrop.delivery import folders
from ledgerdrop.delivery.models import Delivery
from ledgerdrop.documents import slots
from ledgerdrop.documents.models import Document


def register() -> None:
    folders.register(services.folders_for_device)
    folders.MAIN_FOLDER_CHECKS.register("presets", services.check_main_folder)
    for preset in services.available_presets():
        applications.APPLICATIONS.register(preset.slug, application(preset))
        slots.TRANSFER_SOURCES.register(
            preset.slug, slots.TransferSource(transfers=_transfers_of(preset), icon=icon)
        )
        to_process.DOCUMENTS_TO_PROCESS.register(preset.slug, _documents_to_process(preset))


def _documents_to_process(preset: Preset) -> to_process.DocumentsToProcess:
    def documents(
        firm: Organisation, dossier: Dossier | None, kind: str | None
    ) -> QuerySet[Document]:
        return services.documents_to_process(firm, preset.slug, dossier=dossier, kind=kind)

    return documents


def application(preset: Preset) -> applications.Application:
    def is_enabled(firm: Organisation) -> bool:
        return services.is_enabled(firm, preset.slug)

    def switch(firm: Organisation, enabled: bool, by: User | None) -> None:
        services.switch(firm, preset.slug, enabled, by=by)

    return applications.Application(
        slug=preset.slug,
        name=preset.title,
        section="accounting",
        section_label=_("Accounting"),
        description=preset.description,
        is_enabled=is_enabled,
        switch=switch,
        menu_label=preset.title,
        menu_url_name=f"connector-{preset.slug}",
    )


def _transfers_of(preset: Preset) -> Callable[[Sequence[Document]], dict[int, slots.Transfer]]:
    def transfers(documents: Sequence[Document]) -> dict[int, slots.Transfer]:
        """The latest delivery of each document through this package, as the client sees it."""
        latest = services.latest_shipments(preset.slug, documents)
        return {
            document_id: _transfer(preset, delivery) for document_id, delivery in latest.items()
        }

    return transfers


def _transfer(preset: Preset, sent: Delivery | Message) -> slots.Transfer:
    """A delivery through a device, or a message by e-mail: their states are the same."""
    error = None
    if sent.state == Delivery.State.FAILED:
        error = sent.failure_text or getattr(sent, "failure_reason", "") or None
    elif sent.waiting_reason:
        error = sent.waiting_reason
    return slots.Transfer(
        state=sent.state,
        delivered_at=sent.delivered_at,
        error=error,
        at=sent.queued_at,
        by=preset.slug,
    )


def icon(transfer: slots.Transfer) -> str:
    """Grey while on its way, green once fetched (or accepted by the receiving mail server),
    red when something is wrong."""
    preset = PRESETS[transfer.by]
    return render_to_string(
        "presets/_transfer_icon.html",
        {
            "transfer": transfer,
            "letter": preset.name[0],
            "name": preset.title,
            "by_email": preset.mechanism is Mechanism.EMAIL,
        },
    )
