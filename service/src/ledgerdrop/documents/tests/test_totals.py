"""Totals arithmetic: rebuilt official examples and EN 16931 rounding cases."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from ledgerdrop.documents.ubl.model import (
    AllowanceCharge,
    DocumentKind,
    InvoiceData,
    Line,
    VatCategory,
)
from ledgerdrop.documents.ubl.totals import compute_totals, line_net_amount, round_amount
from tests.ubl_samples import BUYER, SELLER

EXAMPLES = "bis-billing-3.0.19/examples"
NS = {
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}
# The examples use Nordic rates; Belgium has none of them. Amounts that do not depend on
# the rate are compared with the example as is, the tax with the Belgian rate in its place.
BELGIAN_RATE_FOR = {Decimal(25): Decimal(21), Decimal(15): Decimal(6), Decimal(0): Decimal(0)}


def _decimal(element: etree._Element, path: str) -> Decimal:
    return Decimal(element.findtext(path, namespaces=NS) or "0")


def _vat(element: etree._Element, path: str) -> tuple[VatCategory, Decimal]:
    category = VatCategory(element.findtext(f"{path}/cbc:ID", namespaces=NS))
    return category, BELGIAN_RATE_FOR[_decimal(element, f"{path}/cbc:Percent")]


def _rebuild(root: etree._Element) -> InvoiceData:
    lines = []
    for line in root.iterfind("cac:InvoiceLine", NS):
        category, rate = _vat(line, "cac:Item/cac:ClassifiedTaxCategory")
        lines.append(
            Line(
                line.findtext("cac:Item/cbc:Name", namespaces=NS) or "item",
                _decimal(line, "cbc:InvoicedQuantity"),
                _decimal(line, "cac:Price/cbc:PriceAmount"),
                category,
                rate,
                exemption_reason="Exempt" if category is VatCategory.EXEMPT else None,
            )
        )
    adjustments = []
    for adjustment in root.iterfind("cac:AllowanceCharge", NS):
        category, rate = _vat(adjustment, "cac:TaxCategory")
        adjustments.append(
            AllowanceCharge(
                adjustment.findtext("cbc:ChargeIndicator", namespaces=NS) == "true",
                _decimal(adjustment, "cbc:Amount"),
                adjustment.findtext("cbc:AllowanceChargeReason", namespaces=NS) or "reason",
                category,
                rate,
            )
        )
    return InvoiceData(
        kind=DocumentKind.INVOICE,
        number="EX-1",
        issue_date=date(2017, 11, 13),
        due_date=date(2017, 12, 1),
        seller=SELLER,
        buyer=BUYER,
        lines=tuple(lines),
        allowances_charges=tuple(adjustments),
    )


@pytest.mark.parametrize(
    "example",
    ["base-example.xml", "Vat-category-S.xml", "vat-category-E.xml", "vat-category-Z.xml"],
)
def test_totals_of_an_official_example_are_rebuilt(peppol_material: Path, example: str) -> None:
    root = etree.parse(str(peppol_material / EXAMPLES / example)).getroot()
    totals = compute_totals(_rebuild(root))

    expected_nets = [
        _decimal(line, "cbc:LineExtensionAmount") for line in root.iterfind("cac:InvoiceLine", NS)
    ]
    assert list(totals.line_net_amounts) == expected_nets
    monetary = root.find("cac:LegalMonetaryTotal", NS)
    assert monetary is not None
    assert totals.line_extension_amount == _decimal(monetary, "cbc:LineExtensionAmount")
    assert totals.allowance_total == _decimal(monetary, "cbc:AllowanceTotalAmount")
    assert totals.charge_total == _decimal(monetary, "cbc:ChargeTotalAmount")
    assert totals.tax_exclusive_amount == _decimal(monetary, "cbc:TaxExclusiveAmount")

    expected_bases = {
        _vat(subtotal, "cac:TaxCategory"): _decimal(subtotal, "cbc:TaxableAmount")
        for subtotal in root.iterfind("cac:TaxTotal/cac:TaxSubtotal", NS)
    }
    assert {(c.category, c.rate): c.taxable_amount for c in totals.categories} == expected_bases
    for category in totals.categories:
        assert category.tax_amount == round_amount(category.taxable_amount * category.rate / 100)
    assert totals.tax_inclusive_amount == totals.tax_exclusive_amount + totals.tax_amount
    assert totals.payable_amount == totals.tax_inclusive_amount


def test_base_example_at_21_percent_states_the_expected_amounts(peppol_material: Path) -> None:
    root = etree.parse(str(peppol_material / EXAMPLES / "base-example.xml")).getroot()
    totals = compute_totals(_rebuild(root))
    # 7 x 400 - 3 x 500 = 1300, plus the 25.00 insurance charge: 1325 taxed at 21 %.
    assert totals.tax_exclusive_amount == Decimal("1325.00")
    assert totals.tax_amount == Decimal("278.25")
    assert totals.payable_amount == Decimal("1603.25")


def _invoice(*lines: Line, adjustments: tuple[AllowanceCharge, ...] = ()) -> InvoiceData:
    return InvoiceData(
        kind=DocumentKind.INVOICE,
        number="R-1",
        issue_date=date(2025, 3, 1),
        due_date=date(2025, 3, 31),
        seller=SELLER,
        buyer=BUYER,
        lines=lines,
        allowances_charges=adjustments,
    )


def test_a_line_net_amount_rounds_half_a_cent_up() -> None:
    line = Line("Vis", Decimal(3), Decimal("0.335"), VatCategory.STANDARD, Decimal(21))
    assert line_net_amount(line) == Decimal("1.01")


def test_a_negative_half_cent_rounds_away_from_zero() -> None:
    assert round_amount(Decimal("-0.005")) == Decimal("-0.01")
    assert round_amount(Decimal("-0.004")) == Decimal("0.00")


def test_vat_is_rounded_once_per_category_not_per_line() -> None:
    # Per line 0.105 would round to 0.11 three times (0.33); on the 1.50 base it is 0.32.
    line = Line("Stylo", Decimal(1), Decimal("0.50"), VatCategory.STANDARD, Decimal(21))
    totals = compute_totals(_invoice(line, line, line))
    (category,) = totals.categories
    assert category.taxable_amount == Decimal("1.50")
    assert category.tax_amount == Decimal("0.32")
    assert totals.tax_inclusive_amount == Decimal("1.82")


def test_each_rate_gets_its_own_vat_breakdown() -> None:
    totals = compute_totals(
        _invoice(
            Line("Pain", Decimal(10), Decimal("2.20"), VatCategory.STANDARD, Decimal(6)),
            Line("Vin", Decimal(2), Decimal("12.50"), VatCategory.STANDARD, Decimal(12)),
            Line("Conseil", Decimal("1.5"), Decimal(90), VatCategory.STANDARD, Decimal(21)),
            Line("Pain", Decimal(5), Decimal("2.20"), VatCategory.STANDARD, Decimal(6)),
        )
    )
    assert [(c.rate, c.taxable_amount, c.tax_amount) for c in totals.categories] == [
        (Decimal(6), Decimal("33.00"), Decimal("1.98")),
        (Decimal(12), Decimal("25.00"), Decimal("3.00")),
        (Decimal(21), Decimal("135.00"), Decimal("28.35")),
    ]
    assert totals.tax_amount == Decimal("33.33")
    assert totals.payable_amount == Decimal("226.33")


def test_a_document_allowance_lowers_the_base_of_its_own_category_only() -> None:
    totals = compute_totals(
        _invoice(
            Line("Chaise", Decimal(4), Decimal(50), VatCategory.STANDARD, Decimal(21)),
            Line("Livre", Decimal(2), Decimal(20), VatCategory.STANDARD, Decimal(6)),
            adjustments=(
                AllowanceCharge(
                    False, Decimal("20.00"), "Remise", VatCategory.STANDARD, Decimal(21)
                ),
                AllowanceCharge(
                    True, Decimal("7.50"), "Transport", VatCategory.STANDARD, Decimal(21)
                ),
            ),
        )
    )
    bases = {c.rate: (c.taxable_amount, c.tax_amount) for c in totals.categories}
    assert bases == {
        Decimal(21): (Decimal("187.50"), Decimal("39.38")),
        Decimal(6): (Decimal("40.00"), Decimal("2.40")),
    }
    assert totals.line_extension_amount == Decimal("240.00")
    assert totals.tax_exclusive_amount == Decimal("227.50")
    assert totals.payable_amount == Decimal("269.28")


def test_vat_of_a_foreign_currency_document_is_also_stated_in_euro() -> None:
    data = InvoiceData(
        kind=DocumentKind.INVOICE,
        number="USD-1",
        issue_date=date(2025, 3, 1),
        due_date=date(2025, 3, 31),
        seller=SELLER,
        buyer=BUYER,
        lines=(Line("Licence", Decimal(1), Decimal("1000"), VatCategory.STANDARD, Decimal(21)),),
        currency="USD",
        eur_rate=Decimal("0.9137"),
    )
    totals = compute_totals(data)
    assert totals.tax_amount == Decimal("210.00")
    assert totals.tax_amount_eur == Decimal("191.88")


def test_exempt_categories_get_their_default_exemption_code() -> None:
    totals = compute_totals(
        _invoice(
            Line("Montage", Decimal(1), Decimal(100), VatCategory.REVERSE_CHARGE),
            Line("Cours", Decimal(1), Decimal(50), VatCategory.EXEMPT, exemption_reason="Art. 44"),
        )
    )
    codes = {c.category: (c.exemption_reason_code, c.exemption_reason) for c in totals.categories}
    assert codes == {
        VatCategory.REVERSE_CHARGE: ("VATEX-EU-AE", None),
        VatCategory.EXEMPT: (None, "Art. 44"),
    }
    assert totals.tax_amount == Decimal("0.00")
