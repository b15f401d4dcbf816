"""Any document the model accepts builds into UBL that passes XSD, EN 16931 and PEPPOL BIS 3.0.

LEDGERDROP_UBL_EXAMPLES sets the number of generated documents (100 by default, as in CI).
"""

from __future__ import annotations

import base64
import os
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from ledgerdrop.documents.ubl.build import build_ubl
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
from ledgerdrop.documents.ubl.validate import Validator

EXAMPLES = int(os.environ.get("LEDGERDROP_UBL_EXAMPLES", "100"))

BELGIAN_SELLER = Party(
    "Atelier Lumière SRL", "Rue de la Loi 16", "Bruxelles", "1000", "BE", "BE0403170701",
    "0403170701",
)  # fmt: skip
BELGIAN_BUYER = Party("Brouwerij Noord NV", "Kaai 3", "Antwerpen", "2000", "BE", "BE0202239951")
EU_BUYERS = (
    Party("Groothandel Zuid BV", "Markt 1", "Breda", "4811", "NL", "NL004495445B01"),
    Party("Société Lyonnaise SA", "Quai 2", "Lyon", "69002", "FR", "FR40303265045"),
    Party("Nordlicht GmbH", "Allee 5", "Köln", "50667", "DE", "DE136695976"),
)
# Belgian, no VAT number: the only kind of party that may sell outside the scope of VAT.
ASSOCIATION = Party("ASBL Les Amis", "Rue 9", "Namur", "5000", "BE", None, "0202239951")

TAXES: tuple[tuple[VatCategory, Decimal], ...] = (
    (VatCategory.STANDARD, Decimal(21)),
    (VatCategory.STANDARD, Decimal(12)),
    (VatCategory.STANDARD, Decimal(6)),
    (VatCategory.ZERO, Decimal(0)),
    (VatCategory.EXEMPT, Decimal(0)),
    (VatCategory.REVERSE_CHARGE, Decimal(0)),
    (VatCategory.INTRA_EU, Decimal(0)),
    (VatCategory.EXPORT, Decimal(0)),
)
# Exemption texts stay fixed per category: one breakdown per category has one reason.
REASONS = {VatCategory.EXEMPT: "Art. 44 CTVA", VatCategory.EXPORT: "Art. 39 CTVA"}

words = st.text(
    alphabet=st.characters(codec="latin-1", categories=("L", "N", "Zs", "Pd", "Po")),
    min_size=1,
    max_size=30,
).filter(lambda value: value.strip() != "")


@st.composite
def documents(draw: st.DrawFn) -> InvoiceData:
    outside_vat = draw(st.booleans().map(lambda b: b and draw(st.integers(0, 5)) == 0))
    taxes = (
        [(VatCategory.NOT_SUBJECT, Decimal(0))]
        if outside_vat
        else draw(st.lists(st.sampled_from(TAXES), min_size=1, max_size=4, unique=True))
    )
    tax = st.sampled_from(taxes)

    def line(vat: tuple[VatCategory, Decimal]) -> st.SearchStrategy[Line]:
        return st.builds(
            Line,
            words,
            st.decimals(-20, 500, places=draw(st.integers(0, 3))),
            st.decimals(0, 5000, places=draw(st.integers(0, 4))),
            st.just(vat[0]),
            st.just(vat[1]),
            st.just(REASONS.get(vat[0])),
        )

    lines = draw(st.lists(tax.flatmap(line), min_size=1, max_size=6))
    adjustments = draw(
        st.lists(
            st.tuples(st.booleans(), st.decimals("0.01", "300", places=2), words, tax).map(
                lambda a: AllowanceCharge(a[0], a[1], a[2], a[3][0], a[3][1], REASONS.get(a[3][0]))
            ),
            max_size=3,
        )
    )
    kind = draw(st.sampled_from(DocumentKind))
    issue_date = draw(st.dates(date(2020, 1, 1), date(2030, 12, 31)))
    intra_eu = any(category is VatCategory.INTRA_EU for category, _ in taxes)
    buyer = draw(st.sampled_from(EU_BUYERS)) if intra_eu else BELGIAN_BUYER
    currency = draw(st.sampled_from(["EUR", "EUR", "USD", "GBP", "CHF"]))
    due_days = draw(st.none() | st.integers(0, 90))
    return InvoiceData(
        kind=kind,
        number=f"{kind.value[:2].upper()}-{draw(st.integers(1, 99999))}",
        issue_date=issue_date,
        due_date=None if due_days is None else issue_date + timedelta(days=due_days),
        payment_terms="30 jours fin de mois" if due_days is None else None,
        seller=ASSOCIATION if outside_vat else BELGIAN_SELLER,
        buyer=buyer,
        lines=tuple(lines),
        allowances_charges=tuple(adjustments),
        currency=currency,
        eur_rate=None if currency == "EUR" else draw(st.decimals("0.5", "2", places=4)),
        payment_reference=draw(st.none() | st.integers(1, 10**10 - 1).map(ogm_from_number)),
        iban=draw(st.sampled_from([None, "BE68539007547034", "BE71096123456769"])),
        note=draw(st.none() | words),
        credited=(
            CreditedInvoice("F-1", issue_date - timedelta(days=10))
            if kind is DocumentKind.CREDIT_NOTE
            else None
        ),
        order_reference=draw(st.none() | st.just("PO-1")),
    )


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(data=documents(), with_pdf=st.booleans())
def test_every_generated_document_passes_all_validation_layers(
    validator: Validator, data: InvoiceData, with_pdf: bool
) -> None:
    pdf = render_pdf(data, "fr-nl") if with_pdf else None
    xml = build_ubl(data, pdf)
    report = validator.validate(xml)
    assert report.valid, report.summary + "\n" + "\n".join(map(str, report.errors))
    if pdf is not None:
        embedded = etree.fromstring(xml).findtext(".//{*}EmbeddedDocumentBinaryObject") or ""
        assert base64.b64decode(embedded).startswith(b"%PDF")
