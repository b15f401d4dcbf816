"""The slots of the documents pages and API, which connectors fill.

`documents` knows no connector: how a document travels to the accountant, the icon that says
so, the notes and panels about it are the connector's. Each registry below is a slot; a
connector registers into it from its `AppConfig.ready()` (`core.registries`). With no
connector installed every slot is empty: a document is "not sent to the accountant" and its
pages show nothing more."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.utils.html import format_html_join
from django.utils.safestring import SafeString

from ledgerdrop.accounts.models import Organisation
from ledgerdrop.core.registries import Registry
from ledgerdrop.documents.models import Document


@dataclass(frozen=True)
class Transfer:
    """The latest transfer of a document to its company's accountant, as the client sees it."""

    state: str  # "none", "queued", "delivered" or "failed"
    delivered_at: dt.datetime | None = None
    error: str | None = None
    # When it started: of two connectors that both sent a document, the later one tells.
    at: dt.datetime | None = None
    # The key of the connector that made it, whose icon shows it.
    by: str = ""

    def as_json(self) -> dict[str, Any]:
        """The API's `accountant_transfer`."""
        return {"state": self.state, "delivered_at": self.delivered_at, "error": self.error}


NOT_SENT = Transfer(state="none")


@dataclass(frozen=True)
class TransferSource:
    """What a connector tells of the transfers it made."""

    # The latest transfer of each of these documents that the connector sent, by document id;
    # one query for a whole page of documents.
    transfers: Callable[[Sequence[Document]], dict[int, Transfer]]
    # The connector's icon of one of its transfers, as HTML.
    icon: Callable[[Transfer], str]


TRANSFER_SOURCES: Registry[TransferSource] = Registry("documents.transfer_sources")
# HTML above the list of a company's documents (who receives them without being asked, say).
LIST_NOTES: Registry[Callable[[HttpRequest | None, Organisation], str]] = Registry(
    "documents.list_notes"
)
# HTML panels on the page of a company's document (its transfers and how to send it, say).
DETAIL_PANELS: Registry[Callable[[HttpRequest | None, Document], str]] = Registry(
    "documents.detail_panels"
)


def transfers(documents: Sequence[Document]) -> dict[int, Transfer]:
    """The latest transfer of each document that any connector sent, by document id."""
    latest: dict[int, Transfer] = {}
    earliest = dt.datetime.min.replace(tzinfo=dt.UTC)
    for source in TRANSFER_SOURCES:
        for document_id, transfer in source.transfers(documents).items():
            current = latest.get(document_id)
            # Of two claims on one delivery, the later-registered source tells: BOB Demat's
            # counts every delivery of a document, a package connector only its own.
            if current is None or (transfer.at or earliest) >= (current.at or earliest):
                latest[document_id] = transfer
    return latest


def transfer_of(document: Document) -> Transfer:
    return transfers([document]).get(document.pk, NOT_SENT)


def icon(transfer: Transfer) -> SafeString:
    source = TRANSFER_SOURCES.get(transfer.by)
    return render([source.icon(transfer)] if source is not None else [])


def render(parts: Iterable[str]) -> SafeString:
    """The slot's pieces in a row; a piece that is not marked safe HTML is escaped."""
    return format_html_join("", "{}", ((part,) for part in parts))
