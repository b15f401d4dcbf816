"""Sample documents for the demo and for tests of other apps: real PEPPOL BIS 3.0 UBL built by
`documents/ubl`, with the PDF embedded, valid on every layer."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from decimal import Decimal

from ledgerdrop.documents.models import Document
from ledgerdrop.documents.ubl import build, model, pdf

SAMPLES = [
    (Document.Kind.SALES_INVOICE, "Hôtel Métropole SA", Decimal("1210.00")),
    (Document.Kind.PURCHASE_INVOICE, "Moulins de Ciney SA", Decimal("484.00")),
    (Document.Kind.SALES_INVOICE, "Café du Parc SRL", Decimal("96.80")),
    (Document.Kind.CREDIT_NOTE, "Café du Parc SRL", Decimal("24.20")),
    (Document.Kind.PURCHASE_INVOICE, "Electrabel SA", Decimal("302.50")),
]
# Days between two samples in the demo (see `core/demo.py`), for credit notes to find the
# invoice they credit.
DAYS_BETWEEN_SAMPLES = 3

ADDRESSES = {
    "Hôtel Métropole SA": ("Place de Brouckère 31", "1000", "Bruxelles"),
    "Moulins de Ciney SA": ("Rue du Commerce 12", "5590", "Ciney"),
    "Café du Parc SRL": ("Rue Royale 2", "1000", "Bruxelles"),
    "Electrabel SA": ("Boulevard Simon Bolivar 34", "1000", "Bruxelles"),
}
DEMO_IBAN = "BE71096123456769"
VAT_RATE = Decimal(21)


def enterprise_number(name: str) -> str:
    """A valid, stable Belgian enterprise number for a demo name (same name, same number)."""
    base = f"0{2 * 10**6 + int(hashlib.sha256(name.encode()).hexdigest(), 16) % 10**6:07d}"
    return base + f"{97 - int(base) % 97:02d}"


def _party(name: str) -> model.Party:
    street, postal_code, city = ADDRESSES.get(name, ("Rue de la Station 1", "5000", "Namur"))
    number = enterprise_number(name)
    return model.Party(
        name, street, city, postal_code, vat_number=f"BE{number}", enterprise_number=number
    )


def _credited(number: str, issue_date: dt.date, customer: str) -> model.CreditedInvoice:
    """The demo invoice a demo credit note credits: the latest earlier sample invoice to the
    same customer, numbered and dated the way `core/demo.py` numbers and dates samples."""
    match = re.fullmatch(r"(\d{4})-(\d{4})", number)
    index = int(match.group(2)) if match else len(SAMPLES) + 1
    for earlier in range(min(index, len(SAMPLES) + 1) - 1, 0, -1):
        kind, counterparty, _ = SAMPLES[earlier - 1]
        if kind == Document.Kind.SALES_INVOICE and counterparty == customer:
            date = issue_date - dt.timedelta(days=DAYS_BETWEEN_SAMPLES * (index - earlier))
            return model.CreditedInvoice(f"{date:%Y}-{earlier:04d}", date)
    return model.CreditedInvoice(f"{issue_date:%Y}-0001", issue_date)


_KINDS = {
    Document.Kind.SALES_INVOICE: model.DocumentKind.INVOICE,
    Document.Kind.CREDIT_NOTE: model.DocumentKind.CREDIT_NOTE,
    Document.Kind.PURCHASE_SLIP: model.DocumentKind.SELF_BILLED,
    Document.Kind.INCOMING: model.DocumentKind.INVOICE,
    Document.Kind.PURCHASE_INVOICE: model.DocumentKind.INVOICE,
}


def ubl(
    *,
    kind: str,
    number: str,
    issue_date: dt.date,
    supplier: str,
    customer: str,
    amount: Decimal,
) -> bytes:
    """One document of `amount` including 21 % VAT, as UBL with its PDF inside."""
    document_kind = _KINDS[Document.Kind(kind)]
    net = (amount / (1 + VAT_RATE / 100)).quantize(Decimal("0.01"))
    digits = int(re.sub(r"\D", "", number) or 0) % 10**10
    data = model.InvoiceData(
        kind=document_kind,
        number=number,
        issue_date=issue_date,
        due_date=issue_date + dt.timedelta(days=30),
        seller=_party(supplier),
        buyer=_party(customer),
        lines=(
            model.Line(
                "Fournitures et prestations", Decimal(1), net, model.VatCategory.STANDARD, VAT_RATE
            ),
        ),
        iban=None if document_kind is model.DocumentKind.CREDIT_NOTE else DEMO_IBAN,
        payment_reference=(
            None
            if document_kind is model.DocumentKind.CREDIT_NOTE
            else model.ogm_from_number(digits)
        ),
        credited=(
            _credited(number, issue_date, customer)
            if document_kind is model.DocumentKind.CREDIT_NOTE
            else None
        ),
    )
    return build.build_ubl(data, pdf.render_pdf(data, "fr"))
