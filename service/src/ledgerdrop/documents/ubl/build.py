"""UBL 2.1 Invoice / CreditNote following PEPPOL BIS Billing 3.0, elements in schema order.

Purchase slips (self-billed purchases) are written as BIS Billing 3.0 commercial invoices
(type 380) whose only note says "Autofacturation / Selfbilling". The self-billing
identifiers of PEPPOL's separate Self-Billing 3.0 specification
(urn:fdc:peppol.eu:2017:poacc:selfbilling:3.0, ProfileID ...:selfbilling:01:1.0) fail the
BIS Billing rules PEPPOL-EN16931-R004 and R007, and type code 389 fails P0100 under the
billing profile; BOB and our own validator check the BIS Billing rules, so the document keeps
them and carries the legally required self-billing mention in BT-22.
"""

from __future__ import annotations

import base64
import re
from decimal import Decimal

from lxml import etree

from .codes import (
    CREDIT_NOTE_TYPE,
    CUSTOMIZATION_ID,
    INVOICE_TYPE_COMMERCIAL,
    PAYMENT_MEANS_CREDIT_TRANSFER,
    PAYMENT_MEANS_UNDEFINED,
    PROFILE_ID,
    VatCategory,
)
from .model import DocumentKind, InvoiceData, InvoiceDataError, Party, format_ogm, gettext_noop
from .totals import CategoryTotal, Totals, compute_totals

__all__ = ["SELF_BILLING_NOTE", "build_ubl", "pdf_filename"]

CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
INVOICE_NS = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
CREDIT_NOTE_NS = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"

SELF_BILLING_NOTE = "Autofacturation / Selfbilling"


def _cac(parent: etree._Element, name: str) -> etree._Element:
    return etree.SubElement(parent, f"{{{CAC}}}{name}")


def _cbc(
    parent: etree._Element, name: str, text: str | None, **attributes: str
) -> etree._Element | None:
    # PEPPOL-EN16931-R008 rejects empty elements: an absent value writes nothing.
    if text is None or not text.strip():
        return None
    element = etree.SubElement(parent, f"{{{CBC}}}{name}", attributes)
    element.text = text
    return element


def _amount(parent: etree._Element, name: str, value: Decimal, currency: str) -> None:
    _cbc(parent, name, f"{value:.2f}", currencyID=currency)


def _number(value: Decimal) -> str:
    """A quantity, price or rate without exponent or trailing zeros: 21, 6, 0.125."""
    text = format(value.normalize(), "f")
    return "0" if text in {"-0", ""} else text


def pdf_filename(data: InvoiceData) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", data.number).strip("-") + ".pdf"


def _tax_category(
    parent: etree._Element,
    element: str,
    category: VatCategory,
    rate: Decimal,
    reason_code: str | None = None,
    reason: str | None = None,
) -> None:
    tax_category = _cac(parent, element)
    _cbc(tax_category, "ID", category.value)
    if category is not VatCategory.NOT_SUBJECT:
        # BR-O-05..07: outside the scope of VAT there is no rate at all, not even 0.
        _cbc(tax_category, "Percent", _number(rate))
    _cbc(tax_category, "TaxExemptionReasonCode", reason_code)
    _cbc(tax_category, "TaxExemptionReason", reason)
    _cbc(_cac(tax_category, "TaxScheme"), "ID", "VAT")


def _party(parent: etree._Element, role: str, party: Party, other: Party, with_vat: bool) -> None:
    element = _cac(_cac(parent, role), "Party")
    # PEPPOL-EN16931-R010/R020 make both addresses mandatory. A party known by name and
    # address only (a private seller, a customer abroad) has none: the document then names
    # the other party's, the company that keeps it, so that nothing is ever routed to a
    # made-up address.
    endpoint = party.endpoint or other.endpoint
    if endpoint is None:
        raise InvoiceDataError(gettext_noop("neither party has a VAT or enterprise number"))
    scheme, address = endpoint
    _cbc(element, "EndpointID", address, schemeID=scheme)
    if not party.enterprise_number and not (with_vat and party.vat_number):
        # BR-CO-26 wants some seller identifier even when no VAT number may be shown.
        identifier = party.endpoint[1] if party.endpoint else party.name_and_address
        _cbc(_cac(element, "PartyIdentification"), "ID", identifier)
    _cbc(_cac(element, "PartyName"), "Name", party.name)
    address_element = _cac(element, "PostalAddress")
    _cbc(address_element, "StreetName", party.street)
    _cbc(address_element, "CityName", party.city)
    _cbc(address_element, "PostalZone", party.postal_code)
    _cbc(_cac(address_element, "Country"), "IdentificationCode", party.country)
    if with_vat and party.vat_number:
        tax_scheme = _cac(element, "PartyTaxScheme")
        _cbc(tax_scheme, "CompanyID", party.vat_number)
        _cbc(_cac(tax_scheme, "TaxScheme"), "ID", "VAT")
    legal = _cac(element, "PartyLegalEntity")
    _cbc(legal, "RegistrationName", party.name)
    if party.enterprise_number:
        _cbc(legal, "CompanyID", party.enterprise_number, schemeID="0208")


def _payment(root: etree._Element, data: InvoiceData, totals: Totals) -> None:
    credit_note = data.kind is DocumentKind.CREDIT_NOTE
    # A credit note has no cbc:DueDate; BIS binds its due date (BT-9) to PaymentMeans.
    credit_note_due = data.due_date if credit_note else None
    if data.iban or data.payment_reference or credit_note_due:
        means = _cac(root, "PaymentMeans")
        code = PAYMENT_MEANS_CREDIT_TRANSFER if data.iban else PAYMENT_MEANS_UNDEFINED
        _cbc(means, "PaymentMeansCode", code)
        if credit_note_due:
            _cbc(means, "PaymentDueDate", credit_note_due.isoformat())
        if data.payment_reference:
            _cbc(means, "PaymentID", format_ogm(data.payment_reference))
        if data.iban:
            _cbc(_cac(means, "PayeeFinancialAccount"), "ID", data.iban)
    terms = data.payment_terms
    if terms is None and credit_note_due:
        terms = f"Due date: {credit_note_due.isoformat()}"
    if terms is None and totals.payable_amount > 0 and data.due_date is None:
        # BR-CO-25: an amount due needs a due date or payment terms.
        raise InvoiceDataError(gettext_noop("an amount due needs a due date or payment terms"))
    if terms:
        _cbc(_cac(root, "PaymentTerms"), "Note", terms)


def _tax_totals(root: etree._Element, data: InvoiceData, totals: Totals) -> None:
    currency = data.currency
    tax_total = _cac(root, "TaxTotal")
    _amount(tax_total, "TaxAmount", totals.tax_amount, currency)
    for category in totals.categories:
        _subtotal(tax_total, category, currency)
    if totals.tax_amount_eur is not None:
        # BT-111: the VAT total in the VAT accounting currency, in a TaxTotal of its own.
        _amount(_cac(root, "TaxTotal"), "TaxAmount", totals.tax_amount_eur, "EUR")


def _subtotal(tax_total: etree._Element, category: CategoryTotal, currency: str) -> None:
    subtotal = _cac(tax_total, "TaxSubtotal")
    _amount(subtotal, "TaxableAmount", category.taxable_amount, currency)
    _amount(subtotal, "TaxAmount", category.tax_amount, currency)
    _tax_category(
        subtotal,
        "TaxCategory",
        category.category,
        category.rate,
        category.exemption_reason_code,
        category.exemption_reason,
    )


def _monetary_total(root: etree._Element, data: InvoiceData, totals: Totals) -> None:
    total = _cac(root, "LegalMonetaryTotal")
    currency = data.currency
    _amount(total, "LineExtensionAmount", totals.line_extension_amount, currency)
    _amount(total, "TaxExclusiveAmount", totals.tax_exclusive_amount, currency)
    _amount(total, "TaxInclusiveAmount", totals.tax_inclusive_amount, currency)
    if any(not a.charge for a in data.allowances_charges):
        _amount(total, "AllowanceTotalAmount", totals.allowance_total, currency)
    if any(a.charge for a in data.allowances_charges):
        _amount(total, "ChargeTotalAmount", totals.charge_total, currency)
    _amount(total, "PayableAmount", totals.payable_amount, currency)


def _lines(root: etree._Element, data: InvoiceData, totals: Totals) -> None:
    credit_note = data.kind is DocumentKind.CREDIT_NOTE
    line_name, quantity_name = (
        ("CreditNoteLine", "CreditedQuantity")
        if credit_note
        else ("InvoiceLine", "InvoicedQuantity")
    )
    for number, (line, net) in enumerate(
        zip(data.lines, totals.line_net_amounts, strict=True), start=1
    ):
        element = _cac(root, line_name)
        _cbc(element, "ID", str(number))
        _cbc(element, quantity_name, _number(line.quantity), unitCode=line.unit_code)
        _amount(element, "LineExtensionAmount", net, data.currency)
        item = _cac(element, "Item")
        _cbc(item, "Name", line.description)
        _tax_category(item, "ClassifiedTaxCategory", line.vat_category, line.vat_rate)
        price = _cac(element, "Price")
        _cbc(price, "PriceAmount", _number(line.unit_price), currencyID=data.currency)


def build_ubl(data: InvoiceData, pdf: bytes | None = None) -> bytes:
    """The document as UBL 2.1 XML bytes, with `pdf` embedded as its visual rendition."""
    totals = compute_totals(data)
    credit_note = data.kind is DocumentKind.CREDIT_NOTE
    namespace = CREDIT_NOTE_NS if credit_note else INVOICE_NS
    root = etree.Element(
        f"{{{namespace}}}{'CreditNote' if credit_note else 'Invoice'}",
        nsmap={None: namespace, "cac": CAC, "cbc": CBC},
    )
    _cbc(root, "CustomizationID", CUSTOMIZATION_ID)
    _cbc(root, "ProfileID", PROFILE_ID)
    _cbc(root, "ID", data.number)
    _cbc(root, "IssueDate", data.issue_date.isoformat())
    if credit_note:
        _cbc(root, "CreditNoteTypeCode", CREDIT_NOTE_TYPE)
    else:
        _cbc(root, "DueDate", data.due_date.isoformat() if data.due_date else None)
        _cbc(root, "InvoiceTypeCode", INVOICE_TYPE_COMMERCIAL)
    note = data.note
    if data.kind is DocumentKind.SELF_BILLED:
        # PEPPOL-EN16931-R002 allows a single note, so the mention leads it.
        note = f"{SELF_BILLING_NOTE} - {note}" if note else SELF_BILLING_NOTE
    _cbc(root, "Note", note)
    _cbc(root, "DocumentCurrencyCode", data.currency)
    if data.eur_rate is not None:
        _cbc(root, "TaxCurrencyCode", "EUR")
    # PEPPOL-EN16931-R003: a buyer reference or an order reference is mandatory.
    buyer_reference = data.buyer_reference or (None if data.order_reference else data.number)
    _cbc(root, "BuyerReference", buyer_reference)
    if data.order_reference:
        _cbc(_cac(root, "OrderReference"), "ID", data.order_reference)
    if data.credited:
        reference = _cac(_cac(root, "BillingReference"), "InvoiceDocumentReference")
        _cbc(reference, "ID", data.credited.number)
        _cbc(reference, "IssueDate", data.credited.issue_date.isoformat())
    if pdf is not None:
        attached = _cac(root, "AdditionalDocumentReference")
        _cbc(attached, "ID", data.number)
        _cbc(
            _cac(attached, "Attachment"),
            "EmbeddedDocumentBinaryObject",
            base64.b64encode(pdf).decode("ascii"),
            mimeCode="application/pdf",
            filename=pdf_filename(data),
        )
    with_vat = all(c.category is not VatCategory.NOT_SUBJECT for c in totals.categories)
    _party(root, "AccountingSupplierParty", data.seller, data.buyer, with_vat)
    _party(root, "AccountingCustomerParty", data.buyer, data.seller, with_vat)
    intra_eu = any(c.category is VatCategory.INTRA_EU for c in totals.categories)
    if data.delivery_date or intra_eu:
        # BR-IC-11/12: an intra-community supply states when and to which country.
        delivery = _cac(root, "Delivery")
        _cbc(delivery, "ActualDeliveryDate", (data.delivery_date or data.issue_date).isoformat())
        if intra_eu:
            address = _cac(_cac(delivery, "DeliveryLocation"), "Address")
            _cbc(_cac(address, "Country"), "IdentificationCode", data.buyer.country)
    _payment(root, data, totals)
    for adjustment in data.allowances_charges:
        element = _cac(root, "AllowanceCharge")
        _cbc(element, "ChargeIndicator", "true" if adjustment.charge else "false")
        _cbc(element, "AllowanceChargeReason", adjustment.reason)
        _amount(element, "Amount", adjustment.amount, data.currency)
        _tax_category(element, "TaxCategory", adjustment.vat_category, adjustment.vat_rate)
    _tax_totals(root, data, totals)
    _monetary_total(root, data, totals)
    _lines(root, data, totals)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))
