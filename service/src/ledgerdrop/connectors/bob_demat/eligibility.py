"""The rules of what goes to the accountant, and when (DESIGN.md §2, S6 to S8). Plain functions of
a document's kind and status, so that the whole table is tested without a database."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from ledgerdrop.documents.models import Document

if TYPE_CHECKING:
    from ledgerdrop.delivery.models import Device

Kind = Document.Kind
Status = Document.Status

# Never handed to the accountant, by any path.
NEVER_SENT_STATUSES = frozenset({Status.DRAFT, Status.REJECTED})

# S8: issued sales documents and purchase slips go once marked sent or paid.
_AUTOMATIC_ONCE = {
    Kind.SALES_INVOICE: frozenset({Status.SENT, Status.PAID}),
    Kind.CREDIT_NOTE: frozenset({Status.SENT, Status.PAID}),
    Kind.PURCHASE_SLIP: frozenset({Status.SENT, Status.PAID}),
    # Registered through the Purchases module or the processing list.
    Kind.PURCHASE_INVOICE: frozenset({Status.ISSUED, Status.APPROVED, Status.SENT, Status.PAID}),
    # Incoming documents never go by themselves: only once approved (registered as a purchase).
    Kind.INCOMING: frozenset({Status.APPROVED}),
}


def goes_automatically(document: Document) -> bool:
    """Whether the nightly automatic transfer takes this document (dates and toggles aside).
    A received document naming another company as its buyer waits until the company confirms
    it is theirs: the accountant must not book somebody else's invoice unseen."""
    if document.awaits_addressee_confirmation:
        return False
    return document.status in _AUTOMATIC_ONCE.get(Kind(document.kind), frozenset())


def automatic_sql(document: str) -> tuple[str, list[str]]:
    """`goes_automatically` as a SQL condition on the documents table under the alias
    `document`, built from the same table, for the nightly transfer of every dossier at once."""
    by_kind = " OR ".join(
        f"({document}.kind = %s AND {document}.status IN ({', '.join(['%s'] * len(statuses))}))"
        for statuses in _AUTOMATIC_ONCE.values()
    )
    params = [
        value for kind, statuses in _AUTOMATIC_ONCE.items() for value in (kind, *sorted(statuses))
    ]
    confirmed = f"({document}.addressed_to = '' OR {document}.addressee_confirmed_at IS NOT NULL)"
    return f"({by_kind}) AND {confirmed}", [str(value) for value in params]


def why_not_deliverable(document: Document) -> str:
    """Why this document cannot be handed to the accountant at all, or "" when it can."""
    if document.status == Status.DRAFT:
        return _("%(document)s is a draft: issue it before sending it.") % {"document": document}
    if document.status == Status.REJECTED:
        return _("%(document)s was rejected and is not sent.") % {"document": document}
    if not document.ubl_sha256:
        return _("%(document)s has no UBL file yet.") % {"document": document}
    return ""


def why_autosend_cannot_run(default_device: Device | None, device: Device | None) -> str:
    """S7: without a default device there is no automatic sending; "" when it can run."""
    if default_device is None:
        return _(
            "Automatic transfer is on, but no default device is chosen in the Sage Demat "
            "settings: nothing is sent automatically until one is."
        )
    if device is None or device.revoked_at is not None:
        return _("The device of this connection was revoked: choose another one.")
    return ""
