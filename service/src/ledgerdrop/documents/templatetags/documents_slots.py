"""The slots that connectors fill (`documents.slots`), in the documents templates."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString

from ledgerdrop.accounts.models import Organisation
from ledgerdrop.documents import slots
from ledgerdrop.documents.models import Document

register = template.Library()


@register.simple_tag(takes_context=True)
def list_notes(context: template.Context, company: Organisation) -> SafeString:
    request = context.get("request")
    return slots.render(note(request, company) for note in slots.LIST_NOTES)


@register.simple_tag(takes_context=True)
def detail_panels(context: template.Context, document: Document) -> SafeString:
    request = context.get("request")
    return slots.render(panel(request, document) for panel in slots.DETAIL_PANELS)


@register.simple_tag
def transfer_icon(transfer: slots.Transfer) -> SafeString:
    return slots.icon(transfer)
