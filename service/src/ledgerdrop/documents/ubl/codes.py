"""Code lists the builder needs: VAT categories (UNCL5305), exemption codes (VATEX), PEPPOL ids."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

CUSTOMIZATION_ID = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
PROFILE_ID = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"

INVOICE_TYPE_COMMERCIAL = "380"
CREDIT_NOTE_TYPE = "381"

# UN/ECE Recommendation 20 "one" (piece); BIS requires a unit on every quantity.
UNIT_PIECE = "C62"
# UNCL4461: 30 = credit transfer (needs the payee account), 1 = instrument not defined.
PAYMENT_MEANS_CREDIT_TRANSFER = "30"
PAYMENT_MEANS_UNDEFINED = "1"

ENTERPRISE_NUMBER_SCHEME = "0208"  # ISO 6523 ICD / EAS: Belgian enterprise number (KBO/BCE)

# PEPPOL Electronic Address Scheme codes that take a VAT number, by its country prefix.
# Only countries listed in the BIS 3.0.19 EAS code list; Greek VAT numbers start with EL.
VAT_ENDPOINT_SCHEMES: dict[str, str] = {
    "AD": "9922",
    "AL": "9923",
    "AT": "9914",
    "BA": "9924",
    "BE": "9925",
    "BG": "9926",
    "CH": "9927",
    "CY": "9928",
    "CZ": "9929",
    "DE": "9930",
    "EE": "9931",
    "EL": "9933",
    "ES": "9920",
    "FR": "9957",
    "GB": "9932",
    "HR": "9934",
    "HU": "9910",
    "IE": "9935",
    "LI": "9936",
    "LT": "9937",
    "LU": "9938",
    "LV": "9939",
    "MC": "9940",
    "ME": "9941",
    "MK": "9942",
    "MT": "9943",
    "NL": "9944",
    "PL": "9945",
    "PT": "9946",
    "RO": "9947",
    "RS": "9948",
    "SI": "9949",
    "SK": "9950",
    "SM": "9951",
    "TR": "9952",
    "VA": "9953",
}


class VatCategory(StrEnum):
    """UNCL5305 duty/tax/fee category codes allowed for Belgian documents."""

    STANDARD = "S"
    ZERO = "Z"
    EXEMPT = "E"
    REVERSE_CHARGE = "AE"
    INTRA_EU = "K"
    EXPORT = "G"
    NOT_SUBJECT = "O"


BELGIAN_STANDARD_RATES = frozenset({Decimal(21), Decimal(12), Decimal(6)})

# EN 16931 BR-AE-10, BR-IC-10, BR-G-10 and BR-O-10 require an exemption reason; PEPPOL
# P0104-P0107 tie these VATEX codes to their category, so the code alone satisfies both.
DEFAULT_EXEMPTION_CODES: dict[VatCategory, str] = {
    VatCategory.REVERSE_CHARGE: "VATEX-EU-AE",
    VatCategory.INTRA_EU: "VATEX-EU-IC",
    VatCategory.EXPORT: "VATEX-EU-G",
    VatCategory.NOT_SUBJECT: "VATEX-EU-O",
}

EXEMPTION_CATEGORIES = frozenset(
    {
        VatCategory.EXEMPT,
        VatCategory.REVERSE_CHARGE,
        VatCategory.INTRA_EU,
        VatCategory.EXPORT,
        VatCategory.NOT_SUBJECT,
    }
)

# The legal mention a Belgian invoice prints when no reason text was given.
DEFAULT_EXEMPTION_TEXTS: dict[VatCategory, dict[str, str]] = {
    VatCategory.REVERSE_CHARGE: {
        "fr": "Autoliquidation",
        "nl": "Btw verlegd",
        "en": "Reverse charge",
    },
    VatCategory.INTRA_EU: {
        "fr": "Livraison intracommunautaire exemptée (art. 39bis CTVA)",
        "nl": "Vrijgestelde intracommunautaire levering (art. 39bis W.btw)",
        "en": "Exempt intra-community supply (art. 39bis BE VAT Code)",
    },
    VatCategory.EXPORT: {
        "fr": "Exportation exemptée (art. 39 CTVA)",
        "nl": "Vrijgestelde uitvoer (art. 39 W.btw)",
        "en": "Exempt export (art. 39 BE VAT Code)",
    },
    VatCategory.NOT_SUBJECT: {
        "fr": "Hors champ d'application de la TVA",
        "nl": "Niet onderworpen aan btw",
        "en": "Not subject to VAT",
    },
}
