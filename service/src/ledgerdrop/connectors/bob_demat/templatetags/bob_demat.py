"""Template tags for other apps' pages: the Sage icon of a document (grey, green, red), its
delivery history, and whether the client can send it to the accountant (S6, S9)."""

from __future__ import annotations

from typing import Any

from django import template

from ledgerdrop.accounts.models import Organisation
from ledgerdrop.connectors.bob_demat import services
from ledgerdrop.documents import queries
from ledgerdrop.documents.models import Document

register = template.Library()


@register.inclusion_tag("bob_demat/_sage_icon.html")
def sage_icon(document: Document) -> dict[str, Any]:
    return {"transfer": queries.accountant_transfer(document)}


@register.inclusion_tag("bob_demat/_delivery_history.html")
def delivery_history(document: Document) -> dict[str, Any]:
    """Every delivery of a document: who sent it, when, to which device, fetched when and
    where, or why it failed."""
    deliveries = document.deliveries.select_related("device", "queued_by").order_by("-id")
    return {"deliveries": list(deliveries)}


@register.simple_tag
def client_send_blocker(company: Organisation) -> str:
    """Why the client cannot send to the accountant from here, or "" when it can (S9)."""
    return services.why_client_cannot_send(company)


@register.inclusion_tag("bob_demat/_autosend_note.html")
def accountant_autosend_note(company: Organisation) -> dict[str, Any]:
    """Tells the client which accountants receive its documents by themselves, every night."""
    return {"firms": services.firms_receiving_automatically(company)}
