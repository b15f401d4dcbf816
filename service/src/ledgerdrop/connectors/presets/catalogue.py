"""The accounting packages beside BOB Demat, as data (issue 13): how each one takes documents
(a folder through a device, or an e-mail inbox), where each kind of document goes, and the
default folder and file-name patterns. A connector for a new package is a new entry here."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from django.utils.functional import Promise
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from ledgerdrop.core import errors
from ledgerdrop.documents.models import Document

Kind = Document.Kind


class Mechanism(enum.StrEnum):
    FOLDER = "folder"  # files placed on a device of the firm by the Accounting Downloader
    EMAIL = "email"  # one message per document to an address of the dossier


class Payload(enum.StrEnum):
    UBL = "ubl"  # the UBL file, which carries the PDF inside
    UBL_AND_PDF = "ubl_and_pdf"  # the UBL and the PDF side by side, with one base name
    PDF = "pdf"  # the PDF alone


PAYLOAD_LABELS: dict[Payload, Promise] = {
    Payload.UBL: _("UBL with the PDF inside"),
    Payload.UBL_AND_PDF: _("UBL and PDF side by side"),
    Payload.PDF: _("PDF only"),
}

SALES = "sales"
PURCHASES = "purchases"

# Where each kind of document goes by default: the sales or the purchases side.
DIRECTION_OF_KIND: dict[str, str] = {
    Kind.SALES_INVOICE: SALES,
    Kind.CREDIT_NOTE: SALES,
    Kind.PURCHASE_INVOICE: PURCHASES,
    Kind.PURCHASE_SLIP: PURCHASES,
    Kind.INCOMING: PURCHASES,
}

# The file name without its extension: the date first (packages import in name order), the
# document id last (unique and stable when the document is sent again).
DEFAULT_FILE_TEMPLATE = "{date}_{kind}_{number}_{id}"


@dataclass(frozen=True)
class Preset:
    slug: str
    name: str
    mechanism: Mechanism
    description: Promise
    # Folder presets: the dossier folder and its sub-folder, below the device's main folder.
    path_template: str = ""
    # The words `{direction}` stands for (the connection may change them).
    direction_words: dict[str, str] = field(default_factory=dict)
    # The words `{kind}` stands for; a kind not named here is written as its code.
    kind_words: dict[str, str] = field(default_factory=dict)
    # E-mail presets: the addresses a connection asks for, by key, and which key each kind
    # of document goes to.
    address_keys: tuple[str, ...] = ()
    address_of_kind: dict[str, str] = field(default_factory=dict)
    payload: Payload = Payload.UBL
    # The words of the menu and pages when the name is not a package's own (custom presets).
    label: Promise | None = None

    @property
    def title(self) -> Promise:
        # A package's name is its own in every language; the catalogue says so (gettext_noop).
        return self.label if self.label is not None else _(self.name)

    def route(self, kind: str) -> str:
        """The direction (folder presets) or address key (e-mail presets) of a kind."""
        if self.mechanism is Mechanism.EMAIL:
            return self.address_of_kind.get(kind) or self.address_of_kind[DIRECTION_OF_KIND[kind]]
        return DIRECTION_OF_KIND[kind]


_FRENCH = {PURCHASES: "achats", SALES: "ventes"}
_DUTCH = {PURCHASES: "Aankopen", SALES: "Verkopen"}
_BY_DIRECTION = {SALES: SALES, PURCHASES: PURCHASES}

PRESETS: dict[str, Preset] = {
    preset.slug: preset
    for preset in (
        Preset(
            slug="expert-m",
            name=gettext_noop("Expert/M Plus"),
            mechanism=Mechanism.FOLDER,
            description=_(
                "Places each dossier's documents in a folder named after its enterprise "
                "number, with a purchases and a sales folder, for Expert/M Plus to import."
            ),
            path_template="{enterprise_number}/{direction}",
            direction_words=_DUTCH,
            # Expert/M deletes a UBL file once booked: like every preset's, a document goes
            # once per connection and comes back only when sent again by hand.
        ),
        Preset(
            slug="adsolut",
            name=gettext_noop("Adsolut"),
            mechanism=Mechanism.FOLDER,
            description=_(
                "Places each dossier's documents in its Adsolut dossier folder (named after "
                "the VAT number), in a sales and a purchases folder."
            ),
            path_template="{vat_number}/{direction}",
            direction_words={PURCHASES: "Aankoop", SALES: "Verkoop"},
        ),
        Preset(
            slug="venice",
            name=gettext_noop("Venice"),
            mechanism=Mechanism.FOLDER,
            description=_(
                "Places each dossier's documents in its Venice import path. Venice refuses a "
                "document it already has: a document goes once, unless you send it again."
            ),
            path_template="{enterprise_number}/{direction}",
            direction_words=_FRENCH,
            # Venice refuses a second document with the same cbc:ID: the once-per-connection
            # rule of every preset covers it.
        ),
        Preset(
            slug="topaccount",
            name=gettext_noop("TopAccount"),
            mechanism=Mechanism.FOLDER,
            description=_(
                "Places each dossier's documents in the folders TopAccount imports, through "
                "the Accounting Downloader."
            ),
            path_template="{dossier_code}/{direction}",
            direction_words=_FRENCH,
        ),
        Preset(
            slug="winbooks",
            name=gettext_noop("Winbooks"),
            mechanism=Mechanism.FOLDER,
            description=_(
                "Places each dossier's documents in a folder per dossier with a sub-folder "
                "per document type, for Winbooks to import."
            ),
            path_template="{dossier_code}/{kind}",
            direction_words=_FRENCH,
            kind_words={
                Kind.SALES_INVOICE: "Factures de vente",
                Kind.CREDIT_NOTE: "Notes de credit",
                Kind.PURCHASE_INVOICE: "Factures d'achat",
                Kind.INCOMING: "Factures d'achat",
                Kind.PURCHASE_SLIP: "Bordereaux d'achat",
            },
        ),
        Preset(
            slug="folder",
            name=gettext_noop("Custom folder"),
            label=_("Custom folder"),
            mechanism=Mechanism.FOLDER,
            description=_(
                "Places documents in folders you describe yourself, for any package that "
                "imports UBL files from a folder."
            ),
            path_template="{dossier_code}/{direction}",
            direction_words=_FRENCH,
        ),
        Preset(
            slug="admisol",
            name=gettext_noop("Admisol"),
            mechanism=Mechanism.EMAIL,
            description=_("E-mails each document to the address of its journal in Admisol."),
            address_keys=(SALES, PURCHASES),
            address_of_kind=_BY_DIRECTION,
        ),
        Preset(
            slug="winauditor",
            name=gettext_noop("WinAuditor"),
            mechanism=Mechanism.EMAIL,
            description=_("E-mails each document to the purchases or sales address in WinAuditor."),
            address_keys=(SALES, PURCHASES),
            address_of_kind=_BY_DIRECTION,
        ),
        Preset(
            slug="yuki",
            name=gettext_noop("Yuki"),
            mechanism=Mechanism.EMAIL,
            description=_("E-mails each document, one message each, to the dossier's Yuki inbox."),
            address_keys=("inbox",),
            address_of_kind={SALES: "inbox", PURCHASES: "inbox"},
        ),
        Preset(
            slug="clearfacts",
            name=gettext_noop("ClearFacts"),
            mechanism=Mechanism.EMAIL,
            description=_("E-mails each document to the dossier's ClearFacts inbox."),
            address_keys=(SALES, PURCHASES),
            address_of_kind=_BY_DIRECTION,
        ),
        Preset(
            slug="winbooks-web",
            name=gettext_noop("Winbooks on Web"),
            mechanism=Mechanism.EMAIL,
            description=_("E-mails each document to the Winbooks on Web address of its type."),
            address_keys=(
                Kind.SALES_INVOICE.value,
                Kind.CREDIT_NOTE.value,
                Kind.PURCHASE_INVOICE.value,
                Kind.PURCHASE_SLIP.value,
            ),
            address_of_kind={
                Kind.SALES_INVOICE: Kind.SALES_INVOICE.value,
                Kind.CREDIT_NOTE: Kind.CREDIT_NOTE.value,
                Kind.PURCHASE_INVOICE: Kind.PURCHASE_INVOICE.value,
                Kind.INCOMING: Kind.PURCHASE_INVOICE.value,
                Kind.PURCHASE_SLIP: Kind.PURCHASE_SLIP.value,
            },
        ),
        Preset(
            slug="email",
            name=gettext_noop("Custom e-mail"),
            label=_("Custom e-mail"),
            mechanism=Mechanism.EMAIL,
            description=_("E-mails each document to a sales or a purchases address you choose."),
            address_keys=(SALES, PURCHASES),
            address_of_kind=_BY_DIRECTION,
        ),
    )
}


# The label of each address an e-mail preset asks for, by key.
ADDRESS_LABELS: dict[str, Promise] = {
    SALES: _("Sales address"),
    PURCHASES: _("Purchases address"),
    "inbox": _("Inbox address"),
    Kind.SALES_INVOICE.value: _("Sales invoices address"),
    Kind.CREDIT_NOTE.value: _("Credit notes address"),
    Kind.PURCHASE_INVOICE.value: _("Purchase invoices address"),
    Kind.PURCHASE_SLIP.value: _("Purchase slips address"),
}


def preset(slug: str) -> Preset | None:
    return PRESETS.get(slug)


def preset_of(app: str) -> Preset:
    """`preset`, refused when there is no such package."""
    found = PRESETS.get(app)
    if found is None:
        raise errors.ServiceError(
            "unknown_app", gettext("No such connector."), errors.Kind.NOT_FOUND
        )
    return found
