"""Builders of realistic objects for tests, shared by every app's tests and the system tests."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

from ledgerdrop.accounts import services as accounts_services
from ledgerdrop.accounts.models import Dossier, Organisation, User
from ledgerdrop.config import demo_documents
from ledgerdrop.connectors.bob_demat import services as bob_demat
from ledgerdrop.connectors.bob_demat.models import DematConnection
from ledgerdrop.documents import services as documents_services
from ledgerdrop.documents.models import Document, InvoicingProfile
from ledgerdrop.documents.ubl import build, model, pdf

PASSWORD = "correct-horse-battery-staple"
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


def invoicing_company(
    name: str = "Atelier Lumière SRL",
    owner: User | None = None,
    enterprise_number: str = "0403019261",
) -> Organisation:
    """A company with everything an issued invoice needs: address, enterprise number, IBAN."""
    client = company(name, owner=owner)
    client.vat_number = f"BE{enterprise_number}"
    client.save(update_fields=["vat_number"])
    InvoicingProfile.objects.update_or_create(
        company=client,
        defaults={
            "street": "Rue de la Loi 16",
            "postal_code": "1000",
            "city": "Bruxelles",
            "enterprise_number": enterprise_number,
            "iban": "BE71096123456769",
        },
    )
    return client


def customer(name: str = "Brouwerij Noord NV") -> documents_services.CounterpartyInput:
    return documents_services.CounterpartyInput(
        name=name,
        vat_number="BE0202239951",
        street="Kaai 3",
        postal_code="2000",
        city="Antwerpen",
    )


def invoice_input(
    kind: Document.Kind = Document.Kind.SALES_INVOICE,
    *,
    issue_date: dt.date | None = None,
    lines: list[documents_services.LineInput] | None = None,
    credited_document_id: int | None = None,
) -> documents_services.DocumentInput:
    return documents_services.DocumentInput(
        kind=kind,
        issue_date=issue_date or dt.date(2026, 11, 2),
        counterparty=customer(),
        lines=lines
        or [
            documents_services.LineInput("Réglage éclairage", Decimal("7.5"), Decimal(65), "21"),
            documents_services.LineInput("Livre technique", Decimal(1), Decimal("39.90"), "6"),
        ],
        credited_document_id=credited_document_id,
    )


def received_ubl(
    buyer: Organisation,
    *,
    number: str = "INV-77",
    supplier_vat: str = "BE0202239951",
    with_pdf: bool = False,
    buyer_by_vat: bool = False,
    unit_price: Decimal = Decimal("18.50"),
) -> bytes:
    """A valid PEPPOL invoice from a supplier to `buyer` (which needs `invoicing_company`),
    addressed to its enterprise number (scheme 0208) or, `buyer_by_vat`, its VAT (9925)."""
    profile = InvoicingProfile.objects.get(company=buyer)
    data = model.InvoiceData(
        kind=model.DocumentKind.INVOICE,
        number=number,
        issue_date=dt.date(2026, 10, 20),
        due_date=dt.date(2026, 11, 19),
        seller=model.Party(
            "Moulins de Ciney SA", "Rue du Moulin 1", "Ciney", "5590", vat_number=supplier_vat
        ),
        buyer=model.Party(
            buyer.name,
            profile.street,
            profile.city,
            profile.postal_code,
            vat_number=buyer.vat_number,
            enterprise_number=None if buyer_by_vat else profile.enterprise_number,
        ),
        lines=(
            model.Line(
                "Farine T65", Decimal(20), unit_price, model.VatCategory.STANDARD, Decimal(6)
            ),
        ),
        iban="BE68539007547034",
    )
    return build.build_ubl(data, pdf.render_pdf(data) if with_pdf else None)
