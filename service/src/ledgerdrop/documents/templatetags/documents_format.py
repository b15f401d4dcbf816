"""How documents read on the pages: amounts, quantities and VAT as people write them in the
page's language, the structured communication with its plus signs, statuses that agree with
the document they describe."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template
from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import get_language, pgettext, pgettext_lazy

from ledgerdrop.documents.models import Document
from ledgerdrop.documents.ubl.model import VatCategory, format_ogm

register = template.Library()

CURRENCY_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£"}

# The names of the non-standard VAT categories, as an invoice line shows them.
CATEGORY_LABELS = {
    VatCategory.ZERO: pgettext_lazy("VAT category", "0 %"),
    VatCategory.EXEMPT: pgettext_lazy("VAT category", "exempt"),
    VatCategory.REVERSE_CHARGE: pgettext_lazy("VAT category", "reverse charge"),
    VatCategory.INTRA_EU: pgettext_lazy("VAT category", "intra-EU"),
    VatCategory.EXPORT: pgettext_lazy("VAT category", "export"),
    VatCategory.NOT_SUBJECT: pgettext_lazy("VAT category", "outside VAT"),
}


def _number(value: Decimal | float | int, places: int) -> str:
    return number_format(value, places, use_l10n=True, force_grouping=True)


@register.filter
def money(value: Decimal | None, currency: str = "EUR") -> str:
    """`1175.01, "EUR"` → `1 175,01 €` (fr), `€ 1.175,01` (nl), `€1,175.01` (en)."""
    if value is None or value == "":
        return ""
    amount = _number(Decimal(value), 2)
    symbol = CURRENCY_SYMBOLS.get(currency, currency)
    language = (get_language() or "fr")[:2]
    if symbol == currency:
        return f"{amount}\u00a0{currency}"
    if language == "nl":
        return f"{symbol}\u00a0{amount}"
    if language == "en":
        return f"{symbol}{amount}" if not amount.startswith("-") else f"-{symbol}{amount[1:]}"
    return f"{amount}\u00a0{symbol}"


@register.filter
def quantity(value: Decimal | None) -> str:
    """`7.5000` → `7,5` (fr, nl), `1250` → `1 250`: the decimals a quantity has, no more."""
    if value is None:
        return ""
    normalised = Decimal(value).normalize()
    places = max(0, -int(normalised.as_tuple().exponent))
    return _number(normalised, places)


@register.simple_tag
def vat_label(category: str, rate: Decimal) -> SafeString:
    """`21 %` for the standard rates, the category's name otherwise; the UNCL 5305 code in a
    tooltip for those who look for it."""
    rate_text = f"{quantity(rate)}\u00a0%"
    try:
        code = VatCategory(category)
    except ValueError:
        # A received document may use a category Belgium does not (Canary Islands, Ceuta…).
        text = f"{category} {rate_text}"
    else:
        standard = code is VatCategory.STANDARD
        text = rate_text if standard else str(CATEGORY_LABELS[code])
    title = pgettext("VAT category", "VAT category %(code)s") % {"code": category}
    return format_html('<abbr class="vat" title="{}">{}</abbr>', title, text)


@register.filter
def ogm(reference: str) -> str:
    """`202600000192` → `+++202/6000/00192+++`."""
    digits = "".join(ch for ch in str(reference or "") if ch.isdigit())
    return format_ogm(digits) if len(digits) == 12 else str(reference or "")


# French agrees a status with its document: une facture émise, un bordereau émis.
MASCULINE_KINDS = {Document.Kind.PURCHASE_SLIP, Document.Kind.INCOMING}


FEMININE = "status of a feminine document"
MASCULINE = "status of a masculine document"
# Literal contexts, so that the catalogues find every one.
STATUS_LABELS = {
    MASCULINE: {
        Document.Status.DRAFT: pgettext_lazy("status of a masculine document", "draft"),
        Document.Status.ISSUED: pgettext_lazy("status of a masculine document", "issued"),
        Document.Status.SENT: pgettext_lazy("status of a masculine document", "sent"),
        Document.Status.PAID: pgettext_lazy("status of a masculine document", "paid"),
        Document.Status.RECEIVED: pgettext_lazy("status of a masculine document", "received"),
        Document.Status.APPROVED: pgettext_lazy("status of a masculine document", "approved"),
        Document.Status.REJECTED: pgettext_lazy("status of a masculine document", "rejected"),
    },
    FEMININE: {
        Document.Status.DRAFT: pgettext_lazy("status of a feminine document", "draft"),
        Document.Status.ISSUED: pgettext_lazy("status of a feminine document", "issued"),
        Document.Status.SENT: pgettext_lazy("status of a feminine document", "sent"),
        Document.Status.PAID: pgettext_lazy("status of a feminine document", "paid"),
        Document.Status.RECEIVED: pgettext_lazy("status of a feminine document", "received"),
        Document.Status.APPROVED: pgettext_lazy("status of a feminine document", "approved"),
        Document.Status.REJECTED: pgettext_lazy("status of a feminine document", "rejected"),
    },
}


@register.filter
def status_label(document: Any) -> str:
    gender = MASCULINE if document.kind in MASCULINE_KINDS else FEMININE
    return str(STATUS_LABELS[gender][Document.Status(document.status)])
