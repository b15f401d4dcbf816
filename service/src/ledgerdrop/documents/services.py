"""State changes of documents: each is one transaction with its audit row."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction

from ledgerdrop.accounts.models import Organisation, User
from ledgerdrop.core import audit, storage
from ledgerdrop.documents.models import Document


@transaction.atomic
def store_issued_document(
    company: Organisation,
    *,
    kind: Document.Kind,
    number: str,
    issue_date: dt.date,
    ubl: bytes,
    total: Decimal = Decimal(0),
    counterparty_name: str = "",
    status: Document.Status = Document.Status.ISSUED,
    by: User | None = None,
) -> Document:
    """Keep a finished document and its UBL file, stored by hash so it can never change."""
    blob = storage.put(ubl)
    document = Document.objects.create(
        company=company,
        kind=kind,
        status=status,
        number=number,
        issue_date=issue_date,
        total=total,
        counterparty_name=counterparty_name,
        ubl_sha256=blob.sha256,
        ubl_size=blob.size,
    )
    audit.record(company, "document.stored", document, actor=by, kind=kind, number=number)
    return document
