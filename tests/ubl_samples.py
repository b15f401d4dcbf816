"""The parties of the sample invoices that the UBL, PDF and totals tests and the documents
benchmark build: plain data of the `ubl` package, no database."""

from __future__ import annotations

from ledgerdrop.documents.ubl.model import Party

SELLER = Party(
    "Atelier Lumière SRL",
    "Rue de la Loi 16",
    "Bruxelles",
    "1000",
    vat_number="BE0403170701",
    enterprise_number="0403170701",
)
BUYER = Party("Brouwerij Noord NV", "Kaai 3", "Antwerpen", "2000", vat_number="BE0202239951")
