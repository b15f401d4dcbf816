"""Builders of realistic objects for tests, shared by every app's tests and the system tests."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

from ledgerdrop.accounts import services as accounts_services
from ledgerdrop.accounts.models import Dossier, Organisation, User
from ledgerdrop.connectors.bob_demat import services as bob_demat
from ledgerdrop.connectors.bob_demat.models import DematConnection
from ledgerdrop.core import demo_documents
from ledgerdrop.documents import services as documents_services
from ledgerdrop.documents.models import Document

PASSWORD = "correct-horse-battery-staple"  # noqa: S105  (test users only)
_sequence = itertools.count(1)


def user(email: str | None = None) -> User:
    return User.objects.create_user(email or f"user{next(_sequence)}@example.be", PASSWORD)


def firm(name: str = "Fiduciaire Test", owner: User | None = None) -> Organisation:
    return accounts_services.create_organisation(
        owner or user(), Organisation.Kind.FIRM, f"{name} {next(_sequence)}"
    )


def company(name: str = "Société Test SRL", owner: User | None = None) -> Organisation:
    return accounts_services.create_organisation(
        owner or user(), Organisation.Kind.COMPANY, f"{name} {next(_sequence)}", "BE0403019261"
    )


def connected_dossier(
    accounting_firm: Organisation, client: Organisation, code: str = "CLIENT01"
) -> tuple[Dossier, DematConnection]:
    dossier = accounts_services.link_accountant(client, accounting_firm, by=None)
    bob_demat.enable(accounting_firm, by=None)
    return dossier, bob_demat.connect(dossier, code, by=None)


def document(
    client: Organisation,
    kind: Document.Kind = Document.Kind.SALES_INVOICE,
    number: str | None = None,
    issue_date: dt.date | None = None,
    amount: Decimal = Decimal("121.00"),
) -> Document:
    number = number or f"2026-{next(_sequence):04d}"
    issue_date = issue_date or dt.date(2026, 11, 2)
    return documents_services.store_issued_document(
        client,
        kind=kind,
        number=number,
        issue_date=issue_date,
        total=amount,
        counterparty_name="Client Final SA",
        ubl=demo_documents.ubl(
            kind=kind,
            number=number,
            issue_date=issue_date,
            supplier=client.name,
            customer="Client Final SA",
            amount=amount,
        ),
    )
