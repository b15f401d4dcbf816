"""From the rows of a document written here to what the `ubl` package builds: parties, lines,
VAT choices, totals. Reads only; every change is in `services.py`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from ledgerdrop.accounts.models import Organisation
from ledgerdrop.documents.models import Document, DocumentLine, InvoicingProfile
from ledgerdrop.documents.ubl import model as ubl
from ledgerdrop.documents.ubl.totals import Totals, totals_of

# Due date when none is given: BR-CO-25 wants one (or terms) whenever an amount is due.
DEFAULT_PAYMENT_DAYS = 30
DEFAULT_EXEMPT_REASON = "Exonération de TVA (art. 44 CTVA)"


@dataclass(frozen=True)
class VatChoice:
    key: str
    category: ubl.VatCategory
    rate: Decimal
    label: str | Promise


VAT_CHOICES: tuple[VatChoice, ...] = (
    VatChoice("21", ubl.VatCategory.STANDARD, Decimal(21), "21 %"),
    VatChoice("12", ubl.VatCategory.STANDARD, Decimal(12), "12 %"),
    VatChoice("6", ubl.VatCategory.STANDARD, Decimal(6), "6 %"),
    VatChoice("0", ubl.VatCategory.ZERO, Decimal(0), "0 %"),
    VatChoice("E", ubl.VatCategory.EXEMPT, Decimal(0), _("exempt")),
    VatChoice("AE", ubl.VatCategory.REVERSE_CHARGE, Decimal(0), _("reverse charge")),
    VatChoice("K", ubl.VatCategory.INTRA_EU, Decimal(0), _("intra-community supply")),
    VatChoice("G", ubl.VatCategory.EXPORT, Decimal(0), _("export outside the EU")),
    VatChoice("O", ubl.VatCategory.NOT_SUBJECT, Decimal(0), _("not subject to VAT")),
)
_BY_KEY = {choice.key: choice for choice in VAT_CHOICES}


def vat_choice(key: str | Decimal | int) -> VatChoice:
    """`"21"`, `21`, `"6.00"` → standard rate; `"0"` → zero rate; `"AE"`, `"K"`… → that category."""
    text = str(key).strip().upper().removesuffix("%").strip()
    try:
        number = Decimal(text)
    except ArithmeticError:
        number = None
    if number is not None and number.is_finite():
        text = format(number.normalize(), "f")
    choice = _BY_KEY.get(text)
    if choice is None:
        allowed = ", ".join(_BY_KEY)
        raise ubl.InvoiceDataError(
            gettext_noop("VAT rate '%(key)s' is not one of %(allowed)s"), key=key, allowed=allowed
        )
    return choice


def vat_key(category: str, rate: Decimal) -> str:
    if category == ubl.VatCategory.STANDARD:
        return format(rate.normalize(), "f")
    return "0" if category == ubl.VatCategory.ZERO else category


def profile_of(company: Organisation) -> InvoicingProfile:
    profile, _ = InvoicingProfile.objects.get_or_create(company=company)
    return profile


# The invoicing details every issued document prints, by their names on the details page.
COMPANY_ADDRESS_FIELDS: dict[str, str | Promise] = {
    "street": _("street and number"),
    "postal_code": _("postal code"),
    "city": _("city"),
}


def missing_invoicing_details(
    document: Document, profile: InvoicingProfile
) -> dict[str, str | Promise]:
    """What the company must fill in under *Invoicing details* before issuing `document`:
    its address, and its IBAN when the document asks its customer to pay."""
    missing = {
        name: label
        for name, label in COMPANY_ADDRESS_FIELDS.items()
        if not getattr(profile, name).strip()
    }
    asks_payment = document.kind == Document.Kind.SALES_INVOICE and document.total > 0
    if asks_payment and not (document.iban or profile.iban):
        missing["iban"] = _("IBAN")
    return missing


def company_party(company: Organisation, profile: InvoicingProfile) -> ubl.Party:
    return ubl.Party(
        name=company.name,
        street=profile.street,
        city=profile.city,
        postal_code=profile.postal_code,
        country=profile.country or "BE",
        vat_number=company.vat_number or None,
        enterprise_number=profile.enterprise_number or None,
    )


def counterparty(document: Document) -> ubl.Party:
    return ubl.Party(
        name=document.counterparty_name,
        street=document.counterparty_street,
        city=document.counterparty_city,
        postal_code=document.counterparty_postal_code,
        country=document.counterparty_country or "BE",
        vat_number=document.counterparty_vat_number or None,
        enterprise_number=document.counterparty_enterprise_number or None,
    )


def ubl_line(row: DocumentLine) -> ubl.Line:
    category = ubl.VatCategory(row.vat_category)
    reason = row.exemption_reason or None
    if category is ubl.VatCategory.EXEMPT and reason is None:
        reason = DEFAULT_EXEMPT_REASON
    return ubl.Line(
        description=row.description,
        quantity=Decimal(row.quantity),
        unit_price=Decimal(row.unit_price),
        vat_category=category,
        vat_rate=Decimal(row.vat_rate),
        exemption_reason=reason,
    )


def line_totals(rows: Iterable[DocumentLine]) -> Totals:
    return totals_of([ubl_line(row) for row in rows])


_KINDS = {
    Document.Kind.SALES_INVOICE: ubl.DocumentKind.INVOICE,
    Document.Kind.CREDIT_NOTE: ubl.DocumentKind.CREDIT_NOTE,
    Document.Kind.PURCHASE_SLIP: ubl.DocumentKind.SELF_BILLED,
}


def invoice_data(
    document: Document, profile: InvoicingProfile, rows: Iterable[DocumentLine] | None = None
) -> ubl.InvoiceData:
    """The document as the `ubl` package models it (its lines: `rows`, else those stored);
    `InvoiceDataError` says what is missing."""
    own = company_party(document.company, profile)
    other = counterparty(document)
    # On a purchase slip the company buys and writes the invoice in its supplier's name.
    self_billed = document.kind == Document.Kind.PURCHASE_SLIP
    seller, buyer = (other, own) if self_billed else (own, other)
    credited = document.credited_document
    due_date = document.due_date or document.issue_date + dt.timedelta(days=DEFAULT_PAYMENT_DAYS)
    return ubl.InvoiceData(
        kind=_KINDS[Document.Kind(document.kind)],
        number=document.number,
        issue_date=document.issue_date,
        due_date=due_date,
        seller=seller,
        buyer=buyer,
        lines=tuple(ubl_line(row) for row in (document.lines.all() if rows is None else rows)),
        currency=document.currency,
        eur_rate=document.eur_rate,
        payment_reference=document.payment_reference or None,
        iban=document.iban or None,
        note=document.note or None,
        credited=(
            ubl.CreditedInvoice(credited.number, credited.issue_date)
            if credited is not None
            else None
        ),
    )
