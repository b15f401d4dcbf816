"""Built UBL documents pass the UBL 2.1 XSD, the EN 16931 rules and the PEPPOL BIS 3.0 rules."""

from __future__ import annotations

import base64
from datetime import date
from decimal import Decimal

import pytest
from lxml import etree

from ledgerdrop.documents.ubl.build import SELF_BILLING_NOTE, build_ubl
from ledgerdrop.documents.ubl.model import (
    AllowanceCharge,
    CreditedInvoice,
    DocumentKind,
    InvoiceData,
    InvoiceDataError,
    Line,
    Party,
    VatCategory,
    ogm_from_number,
)
from ledgerdrop.documents.ubl.pdf import render_pdf
from ledgerdrop.documents.ubl.validate import Validator

NS = {
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}

SELLER = Party(
    "Atelier Lumière SRL",
    "Rue de la Loi 16",
    "Bruxelles",
    "1000",
    vat_number="BE 0403.170.701",
    enterprise_number="0403.170.701",
)
BUYER = Party("Brouwerij Noord NV", "Kaai 3", "Antwerpen", "2000", vat_number="BE0202239951")
DUTCH_BUYER = Party("Groothandel Zuid BV", "Markt 1", "Breda", "4811", "NL", "NL004495445B01")


def assert_valid(validator: Validator, xml: bytes) -> None:
    report = validator.validate(xml)
    assert report.valid, report.summary + "\n" + "\n".join(map(str, report.errors))


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
                "Réglage éclairage scène",
                Decimal("7.5"),
                Decimal(65),
                VatCategory.STANDARD,
                Decimal(21),
            ),
            Line(
                "Gélatines couleur", Decimal(12), Decimal("3.35"), VatCategory.STANDARD, Decimal(21)
            ),
            Line("Livre technique", Decimal(1), Decimal("39.90"), VatCategory.STANDARD, Decimal(6)),
        ),
        "allowances_charges": (
            AllowanceCharge(False, Decimal("10.00"), "Fidélité", VatCategory.STANDARD, Decimal(21)),
        ),
        "payment_reference": ogm_from_number(20250042),
        "iban": "BE68 5390 0754 7034",
        "note": "Merci pour votre confiance.",
    }
    fields.update(changes)
    return InvoiceData(**fields)  # type: ignore[arg-type]


def tree(xml: bytes) -> etree._Element:
    return etree.fromstring(xml)


def text(root: etree._Element, path: str) -> str | None:
    found: str | None = root.findtext(path, namespaces=NS)
    return found


def test_a_sales_invoice_with_its_pdf_passes_every_validation_layer(
    validator: Validator,
) -> None:
    data = invoice()
    xml = build_ubl(data, render_pdf(data))
    assert_valid(validator, xml)
    root = tree(xml)
    assert etree.QName(root).localname == "Invoice"
    assert text(root, "cbc:InvoiceTypeCode") == "380"
    assert text(root, "cbc:ProfileID") == "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
    assert text(root, "cac:PaymentMeans/cbc:PaymentID") == "+++002/0250/04231+++"
    assert text(root, "cac:LegalMonetaryTotal/cbc:PayableAmount") == "668.71"


def test_the_embedded_pdf_is_extractable_with_its_mime_type_and_filename() -> None:
    data = invoice()
    pdf = render_pdf(data)
    root = tree(build_ubl(data, pdf))
    (embedded,) = root.iterfind(
        "cac:AdditionalDocumentReference/cac:Attachment/cbc:EmbeddedDocumentBinaryObject", NS
    )
    assert embedded.get("mimeCode") == "application/pdf"
    assert embedded.get("filename") == "F2025-0042.pdf"
    extracted = base64.b64decode(embedded.text or "")
    assert extracted == pdf
    assert extracted.startswith(b"%PDF")


def test_parties_are_addressed_by_enterprise_number_or_else_by_vat_number() -> None:
    root = tree(build_ubl(invoice()))
    seller = root.find("cac:AccountingSupplierParty/cac:Party/cbc:EndpointID", NS)
    buyer = root.find("cac:AccountingCustomerParty/cac:Party/cbc:EndpointID", NS)
    assert seller is not None and buyer is not None
    assert (seller.get("schemeID"), seller.text) == ("0208", "0403170701")
    assert (buyer.get("schemeID"), buyer.text) == ("9925", "BE0202239951")


def test_a_credit_note_names_the_invoice_it_credits(validator: Validator) -> None:
    data = invoice(
        kind=DocumentKind.CREDIT_NOTE,
        number="NC2025/0003",
        credited=CreditedInvoice("F2025/0042", date(2025, 3, 14)),
        payment_reference=None,
    )
    xml = build_ubl(data, render_pdf(data, "nl"))
    assert_valid(validator, xml)
    root = tree(xml)
    assert etree.QName(root).localname == "CreditNote"
    assert text(root, "cbc:CreditNoteTypeCode") == "381"
    reference = "cac:BillingReference/cac:InvoiceDocumentReference"
    assert text(root, f"{reference}/cbc:ID") == "F2025/0042"
    assert text(root, f"{reference}/cbc:IssueDate") == "2025-03-14"
    assert text(root, "cac:PaymentMeans/cbc:PaymentDueDate") == "2025-04-13"
    assert len(root.findall("cac:CreditNoteLine", NS)) == 3


def test_a_purchase_slip_is_a_bis_billing_invoice_that_says_self_billing(
    validator: Validator,
) -> None:
    farmer = Party("Ferme du Bois", "Chemin 4", "Ciney", "5590", vat_number="BE0202239951")
    company = Party(
        "Atelier Lumière SRL", "Rue de la Loi 16", "Bruxelles", "1000", "BE", "BE0403170701"
    )
    data = invoice(kind=DocumentKind.SELF_BILLED, seller=farmer, buyer=company, note=None)
    xml = build_ubl(data, render_pdf(data))
    assert_valid(validator, xml)
    root = tree(xml)
    assert text(root, "cbc:InvoiceTypeCode") == "380"
    assert text(root, "cbc:Note") == SELF_BILLING_NOTE
    assert text(root, "cac:AccountingSupplierParty/cac:Party/cbc:EndpointID") == "BE0202239951"


def test_a_usd_invoice_states_its_vat_total_in_euro_too(validator: Validator) -> None:
    data = invoice(currency="USD", eur_rate=Decimal("0.9137"), iban=None, payment_reference=None)
    xml = build_ubl(data)
    assert_valid(validator, xml)
    root = tree(xml)
    assert text(root, "cbc:TaxCurrencyCode") == "EUR"
    amounts = [
        (element.get("currencyID"), element.text)
        for element in root.iterfind("cac:TaxTotal/cbc:TaxAmount", NS)
    ]
    assert amounts == [("USD", "111.11"), ("EUR", "101.52")]


@pytest.mark.parametrize(
    ("category", "reason", "code"),
    [
        (VatCategory.ZERO, None, None),
        (VatCategory.EXEMPT, "Exonération art. 44 §2 CTVA", None),
        (VatCategory.REVERSE_CHARGE, None, "VATEX-EU-AE"),
        (VatCategory.INTRA_EU, None, "VATEX-EU-IC"),
        (VatCategory.EXPORT, "Exportation", "VATEX-EU-G"),
    ],
)
def test_each_belgian_vat_category_validates_beside_standard_rate_lines(
    validator: Validator, category: VatCategory, reason: str | None, code: str | None
) -> None:
    data = invoice(
        buyer=DUTCH_BUYER,
        lines=(
            Line("Projecteur", Decimal(2), Decimal("249.99"), VatCategory.STANDARD, Decimal(21)),
            Line("Prestation", Decimal(3), Decimal(80), category, exemption_reason=reason),
        ),
        allowances_charges=(AllowanceCharge(True, Decimal("15.00"), "Port", category),),
    )
    xml = build_ubl(data)
    assert_valid(validator, xml)
    subtotal = tree(xml).xpath(
        "cac:TaxTotal/cac:TaxSubtotal[cac:TaxCategory/cbc:ID = $id]", namespaces=NS, id=category
    )[0]
    assert text(subtotal, "cbc:TaxableAmount") == "255.00"
    assert text(subtotal, "cac:TaxCategory/cbc:TaxExemptionReasonCode") == code
    assert text(subtotal, "cac:TaxCategory/cbc:TaxExemptionReason") == reason


def test_an_intra_community_supply_states_delivery_date_and_country(
    validator: Validator,
) -> None:
    data = invoice(
        buyer=DUTCH_BUYER,
        lines=(Line("Projecteur", Decimal(2), Decimal(250), VatCategory.INTRA_EU),),
        allowances_charges=(),
        delivery_date=date(2025, 3, 10),
    )
    xml = build_ubl(data)
    assert_valid(validator, xml)
    root = tree(xml)
    assert text(root, "cac:Delivery/cbc:ActualDeliveryDate") == "2025-03-10"
    country = "cac:Delivery/cac:DeliveryLocation/cac:Address/cac:Country/cbc:IdentificationCode"
    assert text(root, country) == "NL"


def test_a_document_outside_the_scope_of_vat_shows_no_vat_number_nor_rate(
    validator: Validator,
) -> None:
    data = invoice(
        lines=(Line("Cotisation", Decimal(1), Decimal(150), VatCategory.NOT_SUBJECT),),
        allowances_charges=(),
    )
    xml = build_ubl(data)
    assert_valid(validator, xml)
    root = tree(xml)
    assert root.find(".//cac:PartyTaxScheme", NS) is None
    assert root.find(".//cac:ClassifiedTaxCategory/cbc:Percent", NS) is None
    assert text(root, ".//cac:TaxSubtotal//cbc:TaxExemptionReasonCode") == "VATEX-EU-O"


def test_an_order_reference_replaces_the_default_buyer_reference(validator: Validator) -> None:
    xml = build_ubl(invoice(order_reference="PO-7781"))
    assert_valid(validator, xml)
    root = tree(xml)
    assert text(root, "cac:OrderReference/cbc:ID") == "PO-7781"
    assert text(root, "cbc:BuyerReference") is None


def test_an_amount_due_without_due_date_or_payment_terms_is_refused() -> None:
    with pytest.raises(InvoiceDataError, match="due date or payment terms"):
        build_ubl(invoice(due_date=None))


def test_payment_terms_stand_in_for_a_missing_due_date(validator: Validator) -> None:
    xml = build_ubl(invoice(due_date=None, payment_terms="30 jours fin de mois"))
    assert_valid(validator, xml)
    assert text(tree(xml), "cac:PaymentTerms/cbc:Note") == "30 jours fin de mois"


def test_an_export_to_a_customer_abroad_without_any_number_validates(
    validator: Validator,
) -> None:
    customer = Party("Acme Trading Inc.", "1 Main Street", "Springfield", "62701", "US")
    data = invoice(
        buyer=customer,
        lines=(Line("Projecteur", Decimal(2), Decimal(450), VatCategory.EXPORT),),
        allowances_charges=(),
        currency="USD",
        eur_rate=Decimal("0.9213"),
    )
    xml = build_ubl(data, render_pdf(data, "en"))
    assert_valid(validator, xml)
    root = etree.fromstring(xml)
    buyer = root.find("cac:AccountingCustomerParty/cac:Party", NS)
    assert buyer is not None
    # The customer has no PEPPOL address: the document names the seller's, never a made-up one.
    assert buyer.findtext("cbc:EndpointID", namespaces=NS) == "0403170701"
    assert buyer.findtext("cac:PartyName/cbc:Name", namespaces=NS) == "Acme Trading Inc."
    assert root.findtext("cbc:TaxCurrencyCode", namespaces=NS) == "EUR"


def test_a_purchase_slip_from_a_private_seller_names_them_by_name_and_address(
    validator: Validator,
) -> None:
    farmer = Party("Jan Kowalski", "Chemin des Prés 3", "Gembloux", "5030")
    data = invoice(
        kind=DocumentKind.SELF_BILLED,
        seller=farmer,
        buyer=SELLER,
        lines=(Line("Pommes", Decimal(300), Decimal("0.45"), VatCategory.NOT_SUBJECT),),
        allowances_charges=(),
        payment_reference=None,
    )
    xml = build_ubl(data, render_pdf(data, "fr"))
    assert_valid(validator, xml)
    seller = etree.fromstring(xml).find("cac:AccountingSupplierParty/cac:Party", NS)
    assert seller is not None
    assert (
        seller.findtext("cac:PartyIdentification/cbc:ID", namespaces=NS)
        == "Jan Kowalski, Chemin des Prés 3, 5030 Gembloux, BE"
    )
