"""What a sales invoice, credit note or purchase slip says, checked on construction.

The checks here are the ones a person filling in a document can get wrong and that the
EN 16931 / PEPPOL BIS 3.0 rules would otherwise reject later, far from the cause.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from schwifty import IBAN
from schwifty.exceptions import SchwiftyException
from stdnum import exceptions as stdnum_errors
from stdnum.be import ogm_vcs
from stdnum.be import vat as be_vat
from stdnum.eu import vat as eu_vat

from .codes import (
    BELGIAN_STANDARD_RATES,
    ENTERPRISE_NUMBER_SCHEME,
    EXEMPTION_CATEGORIES,
    UNIT_PIECE,
    VAT_ENDPOINT_SCHEMES,
    VatCategory,
)

__all__ = [
    "AllowanceCharge",
    "CreditedInvoice",
    "DocumentKind",
    "InvoiceData",
    "InvoiceDataError",
    "Line",
    "Party",
    "VatCategory",
    "format_ogm",
    "ogm_from_number",
]


class InvoiceDataError(ValueError):
    """The document data cannot make a valid document; the message says which field."""


class DocumentKind(StrEnum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"
    SELF_BILLED = "self_billed"


def _set(obj: object, name: str, value: object) -> None:
    # Frozen dataclasses normalise their own fields once, in __post_init__.
    object.__setattr__(obj, name, value)


def _decimal(value: Decimal | int, field: str) -> Decimal:
    # A float has already lost the cents it was meant to carry.
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise InvoiceDataError(f"{field} must be a Decimal, not {type(value).__name__}")
    result = Decimal(value)
    if not result.is_finite():
        raise InvoiceDataError(f"{field} must be a finite number")
    return result


def _has_at_most_two_decimals(value: Decimal) -> bool:
    return value == value.quantize(Decimal("0.01"))


def _normalise_vat(number: str, country: str) -> str:
    compact = re.sub(r"[\s.\-/]", "", number).upper()
    if compact[:1].isdigit():
        if country != "BE":
            raise InvoiceDataError(f"VAT number {number!r} lacks its country prefix")
        compact = "BE" + compact
    prefix = compact[:2]
    try:
        if prefix == "BE":
            return "BE" + be_vat.validate(compact)
        if prefix.lower() in eu_vat.MEMBER_STATES or prefix == "EL":
            return str(eu_vat.validate(compact))
    except stdnum_errors.ValidationError as error:
        raise InvoiceDataError(f"VAT number {number!r} is not valid: {error}") from error
    if not re.fullmatch(r"[A-Z]{2}[A-Z0-9]{2,18}", compact):
        raise InvoiceDataError(f"VAT number {number!r} is not valid")
    return compact


def _normalise_enterprise_number(number: str) -> str:
    # The enterprise number and the Belgian VAT number share digits and checksum.
    try:
        return str(be_vat.validate(re.sub(r"^BE", "", number.strip().upper())))
    except stdnum_errors.ValidationError as error:
        raise InvoiceDataError(f"enterprise number {number!r} is not valid: {error}") from error


@dataclass(frozen=True)
class Party:
    """A seller or buyer. Needs a VAT or an enterprise number: PEPPOL addresses parties by it."""

    name: str
    street: str
    city: str
    postal_code: str
    country: str = "BE"
    vat_number: str | None = None
    enterprise_number: str | None = None

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise InvoiceDataError("party name is empty")
        country = self.country.strip().upper()
        if not re.fullmatch(r"[A-Z]{2}", country):
            raise InvoiceDataError(f"country {self.country!r} is not an ISO 3166 alpha-2 code")
        _set(self, "country", country)
        if self.vat_number:
            _set(self, "vat_number", _normalise_vat(self.vat_number, country))
        else:
            _set(self, "vat_number", None)
        if self.enterprise_number:
            _set(self, "enterprise_number", _normalise_enterprise_number(self.enterprise_number))
        else:
            _set(self, "enterprise_number", None)
        self.endpoint  # noqa: B018 -- fail now, not when the document is built

    @property
    def endpoint(self) -> tuple[str, str]:
        """PEPPOL electronic address (scheme, identifier): enterprise number first, else VAT."""
        if self.enterprise_number:
            return ENTERPRISE_NUMBER_SCHEME, self.enterprise_number
        if self.vat_number and self.vat_number[:2] in VAT_ENDPOINT_SCHEMES:
            return VAT_ENDPOINT_SCHEMES[self.vat_number[:2]], self.vat_number
        raise InvoiceDataError(
            f"party {self.name!r} needs an enterprise number or a European VAT number"
        )


def _check_vat(
    category: VatCategory, rate: Decimal, reason: str | None, code: str | None, what: str
) -> None:
    if category is VatCategory.STANDARD:
        if rate not in BELGIAN_STANDARD_RATES:
            raise InvoiceDataError(f"{what}: Belgian standard VAT rate {rate} is not 21, 12 or 6")
    elif rate != 0:
        raise InvoiceDataError(f"{what}: VAT category {category} takes a rate of 0, not {rate}")
    if (reason or code) and category not in EXEMPTION_CATEGORIES:
        # BR-S-10 and BR-Z-10: taxed categories carry no exemption reason.
        raise InvoiceDataError(f"{what}: VAT category {category} takes no exemption reason")


@dataclass(frozen=True)
class Line:
    description: str
    quantity: Decimal
    unit_price: Decimal
    vat_category: VatCategory
    vat_rate: Decimal = Decimal(0)
    exemption_reason: str | None = None
    exemption_reason_code: str | None = None
    unit_code: str = UNIT_PIECE

    def __post_init__(self) -> None:
        if not self.description.strip():
            raise InvoiceDataError("line description is empty")
        _set(self, "quantity", _decimal(self.quantity, "quantity"))
        _set(self, "unit_price", _decimal(self.unit_price, "unit price"))
        _set(self, "vat_category", VatCategory(self.vat_category))
        _set(self, "vat_rate", _decimal(self.vat_rate, "VAT rate"))
        if self.unit_price < 0:
            # BR-27: a negative price is written as a negative quantity instead.
            raise InvoiceDataError(f"line {self.description!r}: unit price is negative")
        _check_vat(
            self.vat_category,
            self.vat_rate,
            self.exemption_reason,
            self.exemption_reason_code,
            f"line {self.description!r}",
        )


@dataclass(frozen=True)
class AllowanceCharge:
    """A document-level allowance (discount) or charge (e.g. shipping), with its VAT."""

    charge: bool
    amount: Decimal
    reason: str
    vat_category: VatCategory
    vat_rate: Decimal = Decimal(0)
    exemption_reason: str | None = None
    exemption_reason_code: str | None = None

    def __post_init__(self) -> None:
        if not self.reason.strip():
            raise InvoiceDataError("allowance/charge reason is empty")  # BR-CO-21/22
        amount = _decimal(self.amount, "allowance/charge amount")
        if amount <= 0 or not _has_at_most_two_decimals(amount):
            raise InvoiceDataError(
                f"allowance/charge {self.reason!r}: amount {amount} must be positive, in cents"
            )
        _set(self, "amount", amount)
        _set(self, "vat_category", VatCategory(self.vat_category))
        _set(self, "vat_rate", _decimal(self.vat_rate, "VAT rate"))
        _check_vat(
            self.vat_category,
            self.vat_rate,
            self.exemption_reason,
            self.exemption_reason_code,
            f"allowance/charge {self.reason!r}",
        )


@dataclass(frozen=True)
class CreditedInvoice:
    number: str
    issue_date: date


@dataclass(frozen=True)
class InvoiceData:
    """One document. Amounts are in `currency`; `eur_rate` converts them to euro for VAT."""

    kind: DocumentKind
    number: str
    issue_date: date
    seller: Party
    buyer: Party
    lines: tuple[Line, ...]
    currency: str = "EUR"
    due_date: date | None = None
    allowances_charges: tuple[AllowanceCharge, ...] = ()
    payment_reference: str | None = None
    iban: str | None = None
    note: str | None = None
    credited: CreditedInvoice | None = None
    buyer_reference: str | None = None
    order_reference: str | None = None
    delivery_date: date | None = None
    eur_rate: Decimal | None = None
    payment_terms: str | None = None

    def __post_init__(self) -> None:
        _set(self, "kind", DocumentKind(self.kind))
        _set(self, "lines", tuple(self.lines))
        _set(self, "allowances_charges", tuple(self.allowances_charges))
        if not self.number.strip():
            raise InvoiceDataError("document number is empty")
        if not self.lines:
            raise InvoiceDataError("a document needs at least one line")
        self._check_currency()
        self._check_dates()
        if self.iban:
            try:
                _set(self, "iban", IBAN(self.iban).compact)
            except SchwiftyException as error:
                raise InvoiceDataError(f"IBAN {self.iban!r} is not valid: {error}") from error
        if self.payment_reference:
            try:
                _set(self, "payment_reference", ogm_vcs.validate(self.payment_reference))
            except stdnum_errors.ValidationError as error:
                raise InvoiceDataError(
                    f"payment reference {self.payment_reference!r} is not a valid OGM/VCS"
                ) from error
        self._check_categories()

    def _check_currency(self) -> None:
        currency = self.currency.strip().upper()
        if not re.fullmatch(r"[A-Z]{3}", currency):
            raise InvoiceDataError(f"currency {self.currency!r} is not an ISO 4217 code")
        _set(self, "currency", currency)
        if currency == "EUR":
            if self.eur_rate is not None:
                raise InvoiceDataError("a euro document takes no euro exchange rate")
            return
        # Belgian VAT is declared in euro: BT-6/BT-111 need the rate to state it.
        if self.eur_rate is None or _decimal(self.eur_rate, "euro rate") <= 0:
            raise InvoiceDataError(f"a {currency} document needs a positive euro exchange rate")

    def _check_dates(self) -> None:
        if self.due_date and self.due_date < self.issue_date:
            raise InvoiceDataError("due date is before the issue date")
        if self.kind is DocumentKind.CREDIT_NOTE and self.credited is None:
            raise InvoiceDataError("a credit note must name the invoice it credits")
        if self.kind is not DocumentKind.CREDIT_NOTE and self.credited is not None:
            raise InvoiceDataError("only a credit note names a credited invoice")

    def _check_categories(self) -> None:
        items: tuple[Line | AllowanceCharge, ...] = (*self.lines, *self.allowances_charges)
        categories = {item.vat_category for item in items}
        if VatCategory.NOT_SUBJECT in categories:
            if len(categories) > 1:
                # BR-O-11..14: a document outside the scope of VAT has nothing else in it.
                raise InvoiceDataError("VAT category O cannot be mixed with other categories")
        elif not self.seller.vat_number:
            raise InvoiceDataError("the seller needs a VAT number for VAT categories other than O")
        if VatCategory.INTRA_EU in categories and not self.buyer.vat_number:
            raise InvoiceDataError("an intra-community supply needs the buyer's VAT number")
        if VatCategory.REVERSE_CHARGE in categories and not (
            self.buyer.vat_number or self.buyer.enterprise_number
        ):
            raise InvoiceDataError("reverse charge needs the buyer's VAT or enterprise number")
        for category in categories & EXEMPTION_CATEGORIES:
            in_category = [item for item in items if item.vat_category is category]
            texts = {item.exemption_reason for item in in_category if item.exemption_reason}
            codes = {item.exemption_reason_code for item in in_category}
            codes.discard(None)
            # EN 16931 has one VAT breakdown per category, so one reason per category.
            if len(texts) > 1 or len(codes) > 1:
                raise InvoiceDataError(f"VAT category {category} has conflicting exemption reasons")
            if category is VatCategory.EXEMPT and not (texts or codes):
                raise InvoiceDataError("VAT category E needs an exemption reason")  # BR-E-10


def format_ogm(reference: str) -> str:
    """The printed form of a structured reference: +++123/4567/89002+++."""
    return f"+++{ogm_vcs.format(reference)}+++"


def ogm_from_number(number: int) -> str:
    """A structured reference (12 digits, no formatting) built from a document's number."""
    if number < 0 or number >= 10**10:
        raise InvoiceDataError(f"{number} does not fit the 10 digits of a structured reference")
    base = f"{number:010d}"
    return base + ogm_vcs.calc_check_digits(base)
