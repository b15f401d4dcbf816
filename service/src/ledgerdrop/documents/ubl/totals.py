"""Line, per-category and document totals with EN 16931 rounding.

Every amount the document states is rounded half up to the cent once, where EN 16931 places
it: the line net amount (BT-131), each category's tax on its rounded taxable amount (BT-117),
and the document totals are plain sums of those rounded figures. That way each sum rule
(BR-CO-10..16) holds exactly, and the category tax is the nearest cent to base x rate, well
inside BR-S-09's one-unit tolerance and PEPPOL-R120's two cents on the line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from .codes import DEFAULT_EXEMPTION_CODES, VatCategory
from .model import AllowanceCharge, InvoiceData, Line

CENT = Decimal("0.01")


def round_amount(value: Decimal) -> Decimal:
    """Round to the cent, halves away from zero (commercial rounding)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def line_net_amount(line: Line) -> Decimal:
    return round_amount(line.quantity * line.unit_price)


@dataclass(frozen=True)
class CategoryTotal:
    """One VAT breakdown (BG-23): a category and rate, its base and its tax."""

    category: VatCategory
    rate: Decimal
    taxable_amount: Decimal
    tax_amount: Decimal
    exemption_reason: str | None
    exemption_reason_code: str | None


@dataclass(frozen=True)
class Totals:
    line_net_amounts: tuple[Decimal, ...]
    categories: tuple[CategoryTotal, ...]
    line_extension_amount: Decimal
    allowance_total: Decimal
    charge_total: Decimal
    tax_exclusive_amount: Decimal
    tax_amount: Decimal
    tax_inclusive_amount: Decimal
    payable_amount: Decimal
    # The VAT total in euro when the document is in another currency (BT-111).
    tax_amount_eur: Decimal | None


def _category_total(
    category: VatCategory,
    rate: Decimal,
    lines: list[tuple[Line, Decimal]],
    adjustments: list[AllowanceCharge],
) -> CategoryTotal:
    taxable = sum((net for _, net in lines), Decimal(0))
    for adjustment in adjustments:
        taxable += adjustment.amount if adjustment.charge else -adjustment.amount
    items: list[Line | AllowanceCharge] = [line for line, _ in lines] + list(adjustments)
    reason = next((i.exemption_reason for i in items if i.exemption_reason), None)
    code = next((i.exemption_reason_code for i in items if i.exemption_reason_code), None)
    return CategoryTotal(
        category=category,
        rate=rate,
        taxable_amount=taxable,
        tax_amount=round_amount(taxable * rate / 100),
        exemption_reason=reason,
        exemption_reason_code=code or DEFAULT_EXEMPTION_CODES.get(category),
    )


def compute_totals(data: InvoiceData) -> Totals:
    return totals_of(data.lines, data.allowances_charges, data.eur_rate)


def totals_of(
    lines: Sequence[Line],
    allowances_charges: Sequence[AllowanceCharge] = (),
    eur_rate: Decimal | None = None,
) -> Totals:
    """The totals of lines alone, e.g. for a draft whose parties are not filled in yet."""
    nets = tuple(line_net_amount(line) for line in lines)
    keys: list[tuple[VatCategory, Decimal]] = []
    lines_by_key: dict[tuple[VatCategory, Decimal], list[tuple[Line, Decimal]]] = {}
    adjustments_by_key: dict[tuple[VatCategory, Decimal], list[AllowanceCharge]] = {}
    for line, net in zip(lines, nets, strict=True):
        key = (line.vat_category, line.vat_rate)
        if key not in lines_by_key:
            keys.append(key)
        lines_by_key.setdefault(key, []).append((line, net))
    for adjustment in allowances_charges:
        key = (adjustment.vat_category, adjustment.vat_rate)
        if key not in lines_by_key and key not in adjustments_by_key:
            keys.append(key)
        adjustments_by_key.setdefault(key, []).append(adjustment)
    categories = tuple(
        _category_total(key[0], key[1], lines_by_key.get(key, []), adjustments_by_key.get(key, []))
        for key in keys
    )

    line_extension = sum(nets, Decimal(0))
    allowances = sum((a.amount for a in allowances_charges if not a.charge), Decimal(0))
    charges = sum((a.amount for a in allowances_charges if a.charge), Decimal(0))
    tax_exclusive = line_extension - allowances + charges
    tax = sum((c.tax_amount for c in categories), Decimal(0))
    tax_inclusive = tax_exclusive + tax
    return Totals(
        line_net_amounts=nets,
        categories=categories,
        line_extension_amount=line_extension,
        allowance_total=allowances,
        charge_total=charges,
        tax_exclusive_amount=tax_exclusive,
        tax_amount=tax,
        tax_inclusive_amount=tax_inclusive,
        payable_amount=tax_inclusive,
        tax_amount_eur=None if eur_rate is None else round_amount(tax * eur_rate),
    )
