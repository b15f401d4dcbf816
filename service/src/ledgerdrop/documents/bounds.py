"""The bounds of every quantity and amount of a document written here: one definition that the
API's schema states, the HTML editor's fields use and `services` enforces, so that no number
reaches a database column it does not fit (SQLite would store it and fail on reading it back;
PostgreSQL would refuse it with an error).

Quantities and unit prices are the line columns (14 digits, 4 after the point); the amounts
computed from them (a line's amount, the document's totals) are the document columns (14 digits,
2 after the point). VAT rates are a closed list (`to_ubl.VAT_CHOICES`)."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.utils.formats import number_format
from django.utils.translation import gettext as _
from pydantic import Field

from ledgerdrop.documents.ubl.totals import round_amount

DIGITS = 14
DECIMAL_PLACES = 4
MAX_QUANTITY = Decimal("9999999999.9999")
MAX_UNIT_PRICE = Decimal("9999999999.9999")
MAX_AMOUNT = Decimal("999999999999.99")  # a line's amount and each total of the document


def quantity_field() -> Any:
    """The API schema's `quantity`: negative for a returned or credited quantity."""
    return Field(
        ge=-MAX_QUANTITY,
        le=MAX_QUANTITY,
        max_digits=DIGITS,
        decimal_places=DECIMAL_PLACES,
        description=f"Between -{MAX_QUANTITY} and {MAX_QUANTITY}, at most {DECIMAL_PLACES} "
        f"decimals. Quantity × unit price, and every total, stay at most {MAX_AMOUNT}.",
    )


def unit_price_field() -> Any:
    """The API schema's `unit_price`: never negative (a discount is a negative quantity)."""
    return Field(
        ge=0,
        le=MAX_UNIT_PRICE,
        max_digits=DIGITS,
        decimal_places=DECIMAL_PLACES,
        description=f"Between 0 and {MAX_UNIT_PRICE}, at most {DECIMAL_PLACES} decimals.",
    )


def line_errors(index: int, quantity: Decimal, unit_price: Decimal) -> list[dict[str, str]]:
    """Field errors (`lines.<index>.quantity` …) of one line's own numbers; none when it fits."""
    errors = []
    for name, value, low, high in (
        ("quantity", quantity, -MAX_QUANTITY, MAX_QUANTITY),
        ("unit_price", unit_price, Decimal(0), MAX_UNIT_PRICE),
    ):
        if not value.is_finite() or not low <= value <= high:
            message = _("Enter a number between %(low)s and %(high)s.") % {
                "low": number_format(low),
                "high": number_format(high),
            }
        elif value != round(value, DECIMAL_PLACES):
            message = _("Enter at most %(places)d decimals.") % {"places": DECIMAL_PLACES}
        else:
            continue
        errors.append({"field": f"lines.{index}.{name}", "message": message})
    return errors


def amount_errors(
    line_amounts: Iterable[Decimal], totals: dict[str, Decimal]
) -> list[dict[str, str]]:
    """Field errors of the amounts computed from the lines: each must fit the columns."""
    too_big = _("%(amount)s is more than a document can hold (at most %(limit)s).")
    errors = []
    for index, amount in enumerate(line_amounts):
        if abs(amount) > MAX_AMOUNT:
            text = too_big % {"amount": _amount(amount), "limit": _amount(MAX_AMOUNT)}
            errors.append({"field": f"lines.{index}", "message": text})
    for name, amount in totals.items():
        if abs(amount) > MAX_AMOUNT:
            text = too_big % {"amount": _amount(amount), "limit": _amount(MAX_AMOUNT)}
            errors.append({"field": name, "message": text})
    return errors


def line_amount(quantity: Decimal, unit_price: Decimal) -> Decimal:
    return round_amount(quantity * unit_price)


def _amount(value: Decimal) -> str:
    return number_format(value, decimal_pos=2, use_l10n=True, force_grouping=True)
