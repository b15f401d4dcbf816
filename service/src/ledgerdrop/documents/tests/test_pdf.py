"""The PDF shows an accountant what the UBL says, in French, Dutch, English or two of them."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from pypdf import PdfReader

from ledgerdrop.documents.ubl.model import (
    AllowanceCharge,
    CreditedInvoice,
    DocumentKind,
    InvoiceData,
    Line,
    Party,
    VatCategory,
    ogm_from_number,
)
from ledgerdrop.documents.ubl.pdf import render_pdf
from tests.ubl_samples import BUYER, SELLER


def invoice(**changes: object) -> InvoiceData:
    fields: dict[str, object] = {
        "kind": DocumentKind.INVOICE,
        "number": "F2025/0042",
        "issue_date": date(2025, 3, 14),
        "due_date": date(2025, 4, 13),
        "seller": SELLER,
        "buyer": BUYER,
        "lines": (
            Line(
                "Réglage éclairage", Decimal("7.5"), Decimal(65), VatCategory.STANDARD, Decimal(21)
            ),
            Line("Livre technique", Decimal(1), Decimal("39.90"), VatCategory.STANDARD, Decimal(6)),
            Line(
                "Formation",
                Decimal(1),
                Decimal(200),
                VatCategory.EXEMPT,
                exemption_reason="Art. 44 CTVA",
            ),
        ),
        "allowances_charges": (
            AllowanceCharge(False, Decimal("10.00"), "Fidélité", VatCategory.STANDARD, Decimal(21)),
        ),
        "payment_reference": ogm_from_number(20250042),
        "iban": "BE68539007547034",
    }
    fields.update(changes)
    return InvoiceData(**fields)  # type: ignore[arg-type]


def pdf_text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    # Amounts are glued to their currency by a no-break space, which extraction flattens.
    text = "\n".join(page.extract_text() for page in reader.pages)
    return text.replace("\u00a0", " ")


def test_the_pdf_shows_parties_lines_vat_summary_totals_and_payment_details() -> None:
    text = pdf_text(render_pdf(invoice(), "fr"))
    for expected in [
        "Facture",
        "F2025/0042",
        "Atelier Lumière SRL",
        "Brouwerij Noord NV",
        "BE0403170701",
        "0403.170.701",
        "BE0202239951",
        "Réglage éclairage",
        "21 %",
        "6 %",
        "Exonéré",
        "Art. 44 CTVA",
        "Fidélité",
        "477,50 EUR",  # 21 % base: 487.50 - 10.00
        "100,28 EUR",  # 21 % VAT
        "820,07 EUR",  # amount due
        "13/04/2025",
        "BE68 5390 0754 7034",
        "+++002/0250/04231+++",
    ]:
        assert expected in text, expected


@pytest.mark.parametrize(
    ("language", "title", "due"),
    [
        ("nl", "Factuur", "Te betalen"),
        ("en", "Invoice", "Amount due"),
        ("fr-nl", "Facture / Factuur", "À payer / Te betalen"),
    ],
)
def test_labels_follow_the_chosen_language(language: str, title: str, due: str) -> None:
    text = pdf_text(render_pdf(invoice(), language))
    assert title in text
    assert due in text


def test_dutch_amounts_use_a_decimal_comma_and_point_thousands() -> None:
    data = invoice(
        lines=(Line("Podium", Decimal(1), Decimal("1234.5"), VatCategory.STANDARD, Decimal(21)),)
    )
    assert "1.234,50 EUR" in pdf_text(render_pdf(data, "nl"))


def test_a_credit_note_and_a_purchase_slip_say_what_they_are() -> None:
    credit_note = invoice(
        kind=DocumentKind.CREDIT_NOTE, credited=CreditedInvoice("F2025/0041", date(2025, 3, 1))
    )
    text = pdf_text(render_pdf(credit_note, "fr"))
    assert "Note de crédit" in text
    assert "F2025/0041 du 01/03/2025" in text
    slip = pdf_text(render_pdf(invoice(kind=DocumentKind.SELF_BILLED), "nl"))
    assert "Aankoopborderel (selfbilling)" in slip


def test_a_foreign_currency_document_shows_its_vat_in_euro() -> None:
    data = invoice(currency="USD", eur_rate=Decimal("0.9137"))
    text = pdf_text(render_pdf(data, "en"))
    assert "VAT in EUR (rate 0.9137)" in text
    assert "100.28 USD" in text


def test_a_long_document_continues_on_further_pages() -> None:
    lines = tuple(
        Line(f"Article {n}", Decimal(n), Decimal("1.10"), VatCategory.STANDARD, Decimal(21))
        for n in range(1, 121)
    )
    reader = PdfReader(io.BytesIO(render_pdf(invoice(lines=lines))))
    assert len(reader.pages) >= 3
    assert "Article 120" in reader.pages[-1].extract_text()


def test_the_same_document_renders_to_the_same_bytes() -> None:
    assert render_pdf(invoice()) == render_pdf(invoice())


def test_an_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="language"):
        render_pdf(invoice(), "de")


def test_an_outside_the_scope_document_prints_its_legal_mention() -> None:
    data = invoice(
        lines=(Line("Cotisation", Decimal(1), Decimal(150), VatCategory.NOT_SUBJECT),),
        allowances_charges=(),
    )
    assert "Hors champ d'application de la TVA" in pdf_text(render_pdf(data, "fr"))


POLISH_BUYER = Party(
    "Przedsiębiorstwo Łódź–Żółć Sp. z o.o.",
    "ul. Źródlana 5",
    "Łódź",
    "90-001",
    country="PL",
    vat_number="PL5260250274",
)


def test_polish_greek_and_cyrillic_names_come_back_out_of_the_pdf_as_written() -> None:
    lines = (
        Line("Ελληνικό λάδι ψωμί", Decimal(1), Decimal(10), VatCategory.STANDARD, Decimal(21)),
        Line("Кофе «Арабика» ёж", Decimal(2), Decimal(5), VatCategory.STANDARD, Decimal(6)),
    )
    text = pdf_text(render_pdf(invoice(buyer=POLISH_BUYER, lines=lines), "fr"))
    for expected in [
        "Przedsiębiorstwo Łódź–Żółć Sp. z o.o.",
        "ul. Źródlana 5",
        "90-001 Łódź",
        "Ελληνικό λάδι ψωμί",
        "Кофе «Арабика» ёж",
    ]:
        assert expected in text, expected


def test_every_font_in_the_pdf_is_embedded() -> None:
    reader = PdfReader(io.BytesIO(render_pdf(invoice(buyer=POLISH_BUYER), "fr")))
    resources: Any = reader.pages[0]["/Resources"]
    fonts = resources["/Font"]
    assert fonts
    for reference in fonts.values():
        font = reference.get_object()
        assert "/FontFile2" in font["/FontDescriptor"], font["/BaseFont"]


def test_a_non_breaking_hyphen_prints_as_a_hyphen_not_a_box() -> None:
    buyer = Party("Dupont\u2011Durand SRL", "Rue 1", "Namur", "5000", vat_number="BE0202239951")
    text = pdf_text(render_pdf(invoice(buyer=buyer), "fr"))
    assert "Dupont-Durand SRL" in text
