"""`{% sage_icon document %}`: the client's grey / green / red Sage icon of a document (S6, S9)."""

from __future__ import annotations

from typing import Any

from django import template

from ledgerdrop.connectors.bob_demat import services
from ledgerdrop.documents.models import Document

register = template.Library()


@register.inclusion_tag("bob_demat/_sage_icon.html")
def sage_icon(document: Document) -> dict[str, Any]:
    return {"transfer": services.transfer_state(document)}
