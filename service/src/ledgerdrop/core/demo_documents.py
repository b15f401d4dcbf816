"""Sample documents for the demo: a few sales and purchase documents as minimal UBL files."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from xml.sax.saxutils import escape

from ledgerdrop.documents.models import Document

SAMPLES = [
    (Document.Kind.SALES_INVOICE, "Hôtel Métropole SA", Decimal("1210.00")),
    (Document.Kind.PURCHASE_INVOICE, "Moulins de Ciney SA", Decimal("484.00")),
    (Document.Kind.SALES_INVOICE, "Café du Parc SRL", Decimal("96.80")),
    (Document.Kind.CREDIT_NOTE, "Café du Parc SRL", Decimal("24.20")),
    (Document.Kind.PURCHASE_INVOICE, "Electrabel SA", Decimal("302.50")),
]


def ubl(
    *,
    kind: str,
    number: str,
    issue_date: dt.date,
    supplier: str,
    customer: str,
    amount: Decimal,
) -> bytes:
    root = "CreditNote" if kind == Document.Kind.CREDIT_NOTE else "Invoice"
    type_tag = "CreditNoteTypeCode" if root == "CreditNote" else "InvoiceTypeCode"
    type_code = "381" if root == "CreditNote" else "380"
    net = (amount / Decimal("1.21")).quantize(Decimal("0.01"))
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<{root} xmlns="urn:oasis:names:specification:ubl:schema:xsd:{root}-2"
 xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
 xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
 <cbc:CustomizationID>urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0</cbc:CustomizationID>
 <cbc:ProfileID>urn:fdc:peppol.eu:2017:poacc:billing:01:1.0</cbc:ProfileID>
 <cbc:ID>{escape(number)}</cbc:ID>
 <cbc:IssueDate>{issue_date.isoformat()}</cbc:IssueDate>
 <cbc:{type_tag}>{type_code}</cbc:{type_tag}>
 <cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>
 <cac:AccountingSupplierParty><cac:Party><cac:PartyLegalEntity><cbc:RegistrationName>{escape(supplier)}</cbc:RegistrationName></cac:PartyLegalEntity></cac:Party></cac:AccountingSupplierParty>
 <cac:AccountingCustomerParty><cac:Party><cac:PartyLegalEntity><cbc:RegistrationName>{escape(customer)}</cbc:RegistrationName></cac:PartyLegalEntity></cac:Party></cac:AccountingCustomerParty>
 <cac:LegalMonetaryTotal>
  <cbc:LineExtensionAmount currencyID="EUR">{net}</cbc:LineExtensionAmount>
  <cbc:TaxExclusiveAmount currencyID="EUR">{net}</cbc:TaxExclusiveAmount>
  <cbc:TaxInclusiveAmount currencyID="EUR">{amount}</cbc:TaxInclusiveAmount>
  <cbc:PayableAmount currencyID="EUR">{amount}</cbc:PayableAmount>
 </cac:LegalMonetaryTotal>
</{root}>
""".encode()
