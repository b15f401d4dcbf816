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


def gettext_noop(message: str) -> str:
    """Marks a message for the service's catalogues (Django's makemessages knows this name);
    this package imports no Django, the service translates `InvoiceDataError.template`."""
    return message


class InvoiceDataError(ValueError):
    """The document data cannot make a valid document; the message says which field.

    `template` and `params` let the service say the same in the user's language."""

    def __init__(self, template: str, **params: object) -> None:
        self.template = template
        self.params = params
        super().__init__(template % params if params else template)


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
        raise InvoiceDataError(
            gettext_noop("%(field)s must be a Decimal, not %(type)s"),
            field=field,
            type=type(value).__name__,
        )
    result = Decimal(value)
    if not result.is_finite():
        raise InvoiceDataError(gettext_noop("%(field)s must be a finite number"), field=field)
    return result


def _has_at_most_two_decimals(value: Decimal) -> bool:
    return value == value.quantize(Decimal("0.01"))


def _normalise_vat(number: str, country: str) -> str:
    compact = re.sub(r"[\s.\-/]", "", number).upper()
    if compact[:1].isdigit():
        if country != "BE":
            raise InvoiceDataError(
                gettext_noop("VAT number '%(number)s' lacks its country prefix"), number=number
            )
        compact = "BE" + compact
    prefix = compact[:2]
    try:
        if prefix == "BE":
            return "BE" + be_vat.validate(compact)
        if prefix.lower() in eu_vat.MEMBER_STATES or prefix == "EL":
            return str(eu_vat.validate(compact))
    except stdnum_errors.ValidationError as error:
        raise InvoiceDataError(
            gettext_noop("VAT number '%(number)s' is not valid: its check digits are wrong"),
            number=number,
        ) from error
    if not re.fullmatch(r"[A-Z]{2}[A-Z0-9]{2,18}", compact):
        raise InvoiceDataError(gettext_noop("VAT number '%(number)s' is not valid"), number=number)
    return compact


def _normalise_enterprise_number(number: str) -> str:
    # The enterprise number and the Belgian VAT number share digits and checksum.
    try:
        return str(be_vat.validate(re.sub(r"^BE", "", number.strip().upper())))
    except stdnum_errors.ValidationError as error:
        raise InvoiceDataError(
            gettext_noop("enterprise number '%(number)s' is not valid: its check digits are wrong"),
            number=number,
        ) from error


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
            raise InvoiceDataError(gettext_noop("party name is empty"))
        country = self.country.strip().upper()
        if not re.fullmatch(r"[A-Z]{2}", country):
            raise InvoiceDataError(
                gettext_noop("country '%(country)s' is not a two-letter ISO 3166 code"),
                country=self.country,
            )
        _set(self, "country", country)
        if self.vat_number:
            _set(self, "vat_number", _normalise_vat(self.vat_number, country))
        else:
            _set(self, "vat_number", None)
        if self.enterprise_number:
            _set(self, "enterprise_number", _normalise_enterprise_number(self.enterprise_number))
        else:
            _set(self, "enterprise_number", None)
        if self.endpoint is None and not (self.street.strip() and self.city.strip()):
            # Without a number PEPPOL can address, the name and address identify the party.
            raise InvoiceDataError(
                gettext_noop(
                    "%(name)s has no Belgian or European VAT number and no enterprise number:"
                    " give its street and city"
                ),
                name=self.name,
            )

    @property
    def endpoint(self) -> tuple[str, str] | None:
        """PEPPOL electronic address (scheme, identifier): enterprise number first, else VAT.

        None for a party known by name and address only: a private seller on a purchase slip,
        a customer outside the EU. The document then carries the other party's address."""
        if self.enterprise_number:
            return ENTERPRISE_NUMBER_SCHEME, self.enterprise_number
        if self.vat_number and self.vat_number[:2] in VAT_ENDPOINT_SCHEMES:
            return VAT_ENDPOINT_SCHEMES[self.vat_number[:2]], self.vat_number
        return None

    @property
    def name_and_address(self) -> str:
        """How a party without any number is identified (BT-29/BT-46)."""
        place = f"{self.postal_code} {self.city}".strip()
        return ", ".join(part for part in (self.name, self.street, place, self.country) if part)


def _check_vat(
    category: VatCategory, rate: Decimal, reason: str | None, code: str | None, what: str
) -> None:
    if category is VatCategory.STANDARD:
        if rate not in BELGIAN_STANDARD_RATES:
            raise InvoiceDataError(
                gettext_noop("'%(what)s': the Belgian VAT rate %(rate)s %% is not 21, 12 or 6 %%"),
                what=what,
                rate=rate,
            )
    elif rate != 0:
        raise InvoiceDataError(
            gettext_noop("'%(what)s': VAT category %(category)s takes a rate of 0, not %(rate)s"),
            what=what,
            category=category.value,
            rate=rate,
        )
    if (reason or code) and category not in EXEMPTION_CATEGORIES:
        # BR-S-10 and BR-Z-10: taxed categories carry no exemption reason.
        raise InvoiceDataError(
            gettext_noop("'%(what)s': VAT category %(category)s takes no exemption reason"),
            what=what,
            category=category.value,
        )


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
            raise InvoiceDataError(gettext_noop("line description is empty"))
        _set(self, "quantity", _decimal(self.quantity, "quantity"))
        _set(self, "unit_price", _decimal(self.unit_price, "unit price"))
        _set(self, "vat_category", VatCategory(self.vat_category))
        _set(self, "vat_rate", _decimal(self.vat_rate, "VAT rate"))
        if self.unit_price < 0:
            # BR-27: a negative price is written as a negative quantity instead.
            raise InvoiceDataError(
                gettext_noop("line '%(line)s': unit price is negative"), line=self.description
            )
        _check_vat(
            self.vat_category,
            self.vat_rate,
            self.exemption_reason,
            self.exemption_reason_code,
            self.description,
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
            raise InvoiceDataError(gettext_noop("allowance/charge reason is empty"))  # BR-CO-21/22
        amount = _decimal(self.amount, "allowance/charge amount")
        if amount <= 0 or not _has_at_most_two_decimals(amount):
            raise InvoiceDataError(
                gettext_noop("'%(reason)s': amount %(amount)s must be positive, in cents"),
                reason=self.reason,
                amount=amount,
            )
        _set(self, "amount", amount)
        _set(self, "vat_category", VatCategory(self.vat_category))
        _set(self, "vat_rate", _decimal(self.vat_rate, "VAT rate"))
        _check_vat(
            self.vat_category,
            self.vat_rate,
            self.exemption_reason,
            self.exemption_reason_code,
            self.reason,
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
            raise InvoiceDataError(gettext_noop("document number is empty"))
        if not self.lines:
            raise InvoiceDataError(gettext_noop("a document needs at least one line"))
        self._check_currency()
        self._check_dates()
        if self.iban:
            try:
                _set(self, "iban", IBAN(self.iban).compact)
            except SchwiftyException as error:
                raise InvoiceDataError(
                    gettext_noop("IBAN '%(iban)s' is not valid"), iban=self.iban
                ) from error
        if self.payment_reference:
            try:
                _set(self, "payment_reference", ogm_vcs.validate(self.payment_reference))
            except stdnum_errors.ValidationError as error:
                raise InvoiceDataError(
                    f"payment reference {self.payment_reference!r} is not a valid OGM/VCS"
                ) from error
        self._check_parties()
        self._check_categories()

    def _check_currency(self) -> None:
        currency = self.currency.strip().upper()
        if not re.fullmatch(r"[A-Z]{3}", currency):
            raise InvoiceDataError(
                gettext_noop("currency '%(currency)s' is not a three-letter ISO 4217 code"),
                currency=self.currency,
            )
        _set(self, "currency", currency)
        if currency == "EUR":
            if self.eur_rate is not None:
                raise InvoiceDataError(gettext_noop("a euro document takes no euro exchange rate"))
            return
        # Belgian VAT is declared in euro: BT-6/BT-111 need the rate to state it.
        if self.eur_rate is None or _decimal(self.eur_rate, "euro rate") <= 0:
            raise InvoiceDataError(
                gettext_noop(
                    "a document in %(currency)s needs its euro exchange rate"
                    " (EUR for 1 %(currency)s), above 0"
                ),
                currency=currency,
            )

    def _check_dates(self) -> None:
        if self.due_date and self.due_date < self.issue_date:
            raise InvoiceDataError(gettext_noop("due date is before the issue date"))
        if self.kind is DocumentKind.CREDIT_NOTE and self.credited is None:
            raise InvoiceDataError(gettext_noop("a credit note must name the invoice it credits"))
        if self.kind is not DocumentKind.CREDIT_NOTE and self.credited is not None:
            raise InvoiceDataError(gettext_noop("only a credit note names a credited invoice"))

    def _check_parties(self) -> None:
        if self.seller.endpoint is None and self.buyer.endpoint is None:
            # The document must carry at least one PEPPOL address: the issuing company's.
            raise InvoiceDataError(
                gettext_noop(
                    "neither the seller nor the buyer has a VAT or enterprise number:"
                    " at least one of them needs it"
                )
            )

    def _check_categories(self) -> None:
        items: tuple[Line | AllowanceCharge, ...] = (*self.lines, *self.allowances_charges)
        categories = {item.vat_category for item in items}
        if VatCategory.NOT_SUBJECT in categories:
            if len(categories) > 1:
                # BR-O-11..14: a document outside the scope of VAT has nothing else in it.
                raise InvoiceDataError(
                    gettext_noop("VAT category O cannot be mixed with other categories")
                )
        elif not self.seller.vat_number:
            raise InvoiceDataError(
                gettext_noop("the seller needs a VAT number for VAT categories other than O")
            )
        if VatCategory.INTRA_EU in categories and not self.buyer.vat_number:
            raise InvoiceDataError(
                gettext_noop("an intra-community supply needs the buyer's VAT number")
            )
        if VatCategory.REVERSE_CHARGE in categories and not (
            self.buyer.vat_number or self.buyer.enterprise_number
        ):
            raise InvoiceDataError(
                gettext_noop("reverse charge needs the buyer's VAT or enterprise number")
            )
        for category in categories & EXEMPTION_CATEGORIES:
            in_category = [item for item in items if item.vat_category is category]
            texts = {item.exemption_reason for item in in_category if item.exemption_reason}
            codes = {item.exemption_reason_code for item in in_category}
            codes.discard(None)
            # EN 16931 has one VAT breakdown per category, so one reason per category.
            if len(texts) > 1 or len(codes) > 1:
                raise InvoiceDataError(
                    gettext_noop("VAT category %(category)s has conflicting exemption reasons"),
                    category=category.value,
                )
            if category is VatCategory.EXEMPT and not (texts or codes):
                raise InvoiceDataError(
                    gettext_noop("VAT category E needs an exemption reason")
                )  # BR-E-10


def format_ogm(reference: str) -> str:
    """The printed form of a structured reference: +++123/4567/89002+++."""
    return f"+++{ogm_vcs.format(reference)}+++"


def ogm_from_number(number: int) -> str:
    """A structured reference (12 digits, no formatting) built from a document's number."""
    if number < 0 or number >= 10**10:
        raise InvoiceDataError(
            gettext_noop("%(number)s does not fit the 10 digits of a structured reference"),
            number=number,
        )
    base = f"{number:010d}"
    return base + ogm_vcs.calc_check_digits(base)
