"""Document data is checked when it is made, so a bad field never reaches the UBL."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ledgerdrop.documents.ubl.model import (
    AllowanceCharge,
    CreditedInvoice,
    DocumentKind,
    InvoiceData,
    InvoiceDataError,
    Line,
    Party,
    VatCategory,
    format_ogm,
    ogm_from_number,
)

SELLER = Party("Atelier SRL", "Rue 1", "Liège", "4000", vat_number="BE0403170701")
BUYER = Party("Client SA", "Rue 2", "Mons", "7000", enterprise_number="0202239951")
LINE = Line("Service", Decimal(1), Decimal(100), VatCategory.STANDARD, Decimal(21))


def invoice(**changes: object) -> InvoiceData:
    fields: dict[str, object] = {
        "kind": DocumentKind.INVOICE,
        "number": "1",
        "issue_date": date(2025, 1, 2),
        "due_date": date(2025, 2, 1),
        "seller": SELLER,
        "buyer": BUYER,
        "lines": (LINE,),
    }
    fields.update(changes)
    return InvoiceData(**fields)  # type: ignore[arg-type]


def test_vat_and_enterprise_numbers_are_normalised() -> None:
    party = Party(
        "X", "", "Gent", "9000", vat_number="be 403.170.701", enterprise_number="403170701"
    )
    assert party.vat_number == "BE0403170701"
    assert party.enterprise_number == "0403170701"


@pytest.mark.parametrize("vat_number", ["BE0403170702", "NL004495446B01", "0403170701X"])
def test_a_vat_number_with_wrong_check_digits_is_refused(vat_number: str) -> None:
    with pytest.raises(InvoiceDataError, match="VAT number"):
        Party("X", "Rue", "Gent", "9000", vat_number=vat_number)


def test_a_party_without_any_number_needs_its_street_and_city() -> None:
    with pytest.raises(InvoiceDataError, match="give its street and city"):
        Party("Private person", "", "", "")
    assert Party("Private person", "Rue 3", "Namur", "5000").endpoint is None


def test_a_document_between_two_parties_without_any_number_is_refused() -> None:
    private = Party("Private person", "Rue 3", "Namur", "5000")
    with pytest.raises(InvoiceDataError, match="at least one of them"):
        InvoiceData(
            DocumentKind.SELF_BILLED,
            "BA-1",
            date(2026, 1, 5),
            private,
            Party("Other person", "Rue 4", "Namur", "5000"),
            (Line("Pommes", Decimal(1), Decimal(1), VatCategory.NOT_SUBJECT),),
        )


def test_an_error_carries_its_template_for_translation() -> None:
    with pytest.raises(InvoiceDataError) as caught:
        Party("X", "Rue", "Gent", "9000", vat_number="BE0403170702")
    assert caught.value.template.startswith("VAT number '%(number)s' is not valid")
    assert caught.value.params == {"number": "BE0403170702"}


def test_a_structured_reference_is_made_from_a_number_and_printed_with_plus_signs() -> None:
    reference = ogm_from_number(42)
    assert reference == "000000004242"
    assert format_ogm(reference) == "+++000/0000/04242+++"
    # A multiple of 97 gets 97, not 00, as its check digits.
    assert ogm_from_number(97).endswith("97")


def test_a_payment_reference_with_wrong_check_digits_is_refused() -> None:
    with pytest.raises(InvoiceDataError, match="OGM"):
        invoice(payment_reference="+++000/0000/04243+++")


def test_an_iban_is_validated_and_compacted() -> None:
    assert invoice(iban="be68 5390 0754 7034").iban == "BE68539007547034"
    with pytest.raises(InvoiceDataError, match="IBAN"):
        invoice(iban="BE68 5390 0754 7035")


def test_only_belgian_standard_rates_are_accepted() -> None:
    with pytest.raises(InvoiceDataError, match="21, 12 or 6"):
        Line("Thing", Decimal(1), Decimal(1), VatCategory.STANDARD, Decimal(25))
    with pytest.raises(InvoiceDataError, match="rate of 0"):
        Line("Thing", Decimal(1), Decimal(1), VatCategory.EXEMPT, Decimal(6))


def test_a_float_amount_is_refused() -> None:
    with pytest.raises(InvoiceDataError, match="Decimal"):
        Line("Thing", Decimal(1), 0.1, VatCategory.ZERO)  # type: ignore[arg-type]


def test_a_negative_unit_price_is_refused() -> None:
    with pytest.raises(InvoiceDataError, match="negative"):
        Line("Refund", Decimal(1), Decimal(-5), VatCategory.ZERO)


def test_an_exempt_line_needs_an_exemption_reason() -> None:
    with pytest.raises(InvoiceDataError, match="exemption reason"):
        invoice(lines=(Line("Cours", Decimal(1), Decimal(50), VatCategory.EXEMPT),))


def test_a_standard_rate_line_takes_no_exemption_reason() -> None:
    with pytest.raises(InvoiceDataError, match="no exemption reason"):
        Line("X", Decimal(1), Decimal(1), VatCategory.STANDARD, Decimal(21), "Art. 44")


def test_not_subject_to_vat_cannot_be_mixed_with_other_categories() -> None:
    other = Line("Cotisation", Decimal(1), Decimal(10), VatCategory.NOT_SUBJECT)
    with pytest.raises(InvoiceDataError, match="cannot be mixed"):
        invoice(lines=(LINE, other))


def test_an_intra_community_supply_needs_the_buyers_vat_number() -> None:
    line = Line("Export", Decimal(1), Decimal(10), VatCategory.INTRA_EU)
    with pytest.raises(InvoiceDataError, match="buyer's VAT number"):
        invoice(lines=(line,))


def test_a_seller_without_vat_number_can_only_sell_outside_the_scope_of_vat() -> None:
    with pytest.raises(InvoiceDataError, match="seller needs a VAT number"):
        invoice(seller=BUYER)
    line = Line("Cotisation", Decimal(1), Decimal(10), VatCategory.NOT_SUBJECT)
    assert invoice(seller=BUYER, lines=(line,)).seller == BUYER


def test_conflicting_exemption_reasons_in_one_category_are_refused() -> None:
    lines = (
        Line("A", Decimal(1), Decimal(1), VatCategory.EXEMPT, exemption_reason="Art. 44 §1"),
        Line("B", Decimal(1), Decimal(1), VatCategory.EXEMPT, exemption_reason="Art. 44 §2"),
    )
    with pytest.raises(InvoiceDataError, match="conflicting"):
        invoice(lines=lines)


def test_an_allowance_amount_must_be_in_whole_cents() -> None:
    with pytest.raises(InvoiceDataError, match="in cents"):
        AllowanceCharge(False, Decimal("1.005"), "Remise", VatCategory.STANDARD, Decimal(21))


def test_a_credit_note_must_name_the_credited_invoice_and_an_invoice_must_not() -> None:
    with pytest.raises(InvoiceDataError, match="must name the invoice"):
        invoice(kind=DocumentKind.CREDIT_NOTE)
    with pytest.raises(InvoiceDataError, match="only a credit note"):
        invoice(credited=CreditedInvoice("0", date(2025, 1, 1)))


def test_a_foreign_currency_needs_a_euro_exchange_rate() -> None:
    with pytest.raises(InvoiceDataError, match="euro exchange rate"):
        invoice(currency="CHF")
    assert invoice(currency="chf", eur_rate=Decimal("1.06")).currency == "CHF"
