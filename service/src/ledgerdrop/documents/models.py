"""Documents a company issues or receives, with their files (stored by SHA-256, never changed)."""

from __future__ import annotations

import secrets
from decimal import Decimal
from typing import Any

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ledgerdrop.accounts.models import Organisation
from ledgerdrop.documents.ubl.totals import round_amount


def new_inbox_key() -> str:
    # The local part of the company's e-mail address: unguessable, so spam cannot find it.
    return "f-" + secrets.token_hex(8)


class InvoicingProfile(models.Model):
    """What a company prints on the documents it issues, and where it receives documents."""

    company = models.OneToOneField(
        Organisation, on_delete=models.CASCADE, related_name="invoicing_profile"
    )
    street = models.CharField(_("street and number"), max_length=200, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=16, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    country = models.CharField(_("country"), max_length=2, default="BE")
    enterprise_number = models.CharField(_("enterprise number"), max_length=16, blank=True)
    iban = models.CharField(_("IBAN"), max_length=34, blank=True)
    language = models.CharField(_("language of the PDF"), max_length=5, default="fr")
    inbox_key = models.CharField(max_length=40, unique=True, default=new_inbox_key)

    def __str__(self) -> str:
        return f"{self.company} ({self.inbox_key})"


class NumberSequence(models.Model):
    """The last number issued in one series of one company for one year. Issuing locks this
    row, so two concurrent issues never get the same number and a rolled-back one leaves no
    gap."""

    company = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    series = models.CharField(max_length=32)
    year = models.PositiveIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company", "series", "year"], name="one_sequence")
        ]

    def __str__(self) -> str:
        return f"{self.series} {self.year}: {self.last}"


class Document(models.Model):
    class Kind(models.TextChoices):
        SALES_INVOICE = "sales_invoice", _("sales invoice")
        CREDIT_NOTE = "credit_note", _("credit note")
        PURCHASE_SLIP = "purchase_slip", _("purchase slip")
        INCOMING = "incoming", _("incoming purchase document")
        PURCHASE_INVOICE = "purchase_invoice", _("purchase invoice")

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        ISSUED = "issued", _("issued")
        SENT = "sent", _("sent")
        PAID = "paid", _("paid")
        RECEIVED = "received", _("received")
        APPROVED = "approved", _("approved")
        REJECTED = "rejected", _("rejected")

    class Source(models.TextChoices):
        ISSUED = "issued", _("issued here")
        UPLOAD = "upload", _("upload")
        EMAIL = "email", _("e-mail")
        PEPPOL = "peppol", _("PEPPOL")
        MANUAL = "manual", _("entered by hand")

    SALES_KINDS = frozenset({Kind.SALES_INVOICE, Kind.CREDIT_NOTE})
    # Kinds the company writes itself: numbered here, built as UBL here.
    ISSUED_KINDS = frozenset({Kind.SALES_INVOICE, Kind.CREDIT_NOTE, Kind.PURCHASE_SLIP})
    RECEIVED_KINDS = frozenset({Kind.INCOMING, Kind.PURCHASE_INVOICE})

    company = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    status = models.CharField(max_length=16, choices=Status.choices)
    number = models.CharField(_("number"), max_length=64, blank=True)
    issue_date = models.DateField(_("issue date"))
    currency = models.CharField(max_length=3, default="EUR")
    # EUR per unit of `currency` (BT-6/BT-111): Belgian VAT is declared in euro.
    eur_rate = models.DecimalField(
        _("euro exchange rate"), max_digits=16, decimal_places=6, null=True, blank=True
    )
    total = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    counterparty_name = models.CharField(max_length=200, blank=True)
    ubl_sha256 = models.CharField(max_length=64, blank=True)
    ubl_size = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    # Terms and counterparty: what the document says beyond its headline.
    due_date = models.DateField(_("due date"), null=True, blank=True)
    counterparty_vat_number = models.CharField(_("VAT number"), max_length=32, blank=True)
    counterparty_enterprise_number = models.CharField(
        _("enterprise number"), max_length=16, blank=True
    )
    counterparty_street = models.CharField(_("street and number"), max_length=200, blank=True)
    counterparty_postal_code = models.CharField(_("postal code"), max_length=16, blank=True)
    counterparty_city = models.CharField(_("city"), max_length=100, blank=True)
    counterparty_country = models.CharField(_("country"), max_length=2, default="BE")
    payment_reference = models.CharField(_("structured reference"), max_length=12, blank=True)
    iban = models.CharField(_("IBAN"), max_length=34, blank=True)
    note = models.TextField(_("note"), blank=True)
    credited_document = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="credit_notes",
        verbose_name=_("credited invoice"),
    )
    net_total = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    vat_total = models.DecimalField(max_digits=14, decimal_places=2, default=0)

    # Numbering: the place of an issued document in its company's series for its year.
    series = models.CharField(max_length=32, blank=True)
    fiscal_year = models.PositiveIntegerField(null=True, blank=True)
    sequence = models.PositiveIntegerField(null=True, blank=True)

    # Life cycle.
    issued_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    rejected_at = models.DateTimeField(null=True, blank=True)
    rejection_reason = models.TextField(_("reason"), blank=True)

    # Files: the UBL above is what the accountant gets (PDF inside); the PDF on its own; and for
    # received documents the bytes exactly as they arrived.
    pdf_sha256 = models.CharField(max_length=64, blank=True)
    pdf_size = models.PositiveIntegerField(default=0)
    source_sha256 = models.CharField(max_length=64, blank=True)
    source_size = models.PositiveIntegerField(default=0)
    pdf_rendered_here = models.BooleanField(default=False)

    # How a received document came in, and what the checks said.
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.ISSUED)
    received_from = models.CharField(max_length=254, blank=True)
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    validation = models.JSONField(default=dict, blank=True)
    validation_status = models.CharField(max_length=16, blank=True)
    # A received document whose buyer is another company (its VAT, enterprise number or PEPPOL
    # address): who it names, until somebody of the company confirms it is theirs anyway.
    addressed_to = models.CharField(max_length=200, blank=True)
    addressee_confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-issue_date", "-id"]
        indexes = [
            models.Index(fields=["company", "kind", "status"]),
            # The pages of documents read in pages at any depth (core/paging.py): a company's
            # list, newest first, and a firm's documents to process, oldest first.
            models.Index(fields=["company", "issue_date", "id"], name="document_company_date"),
            models.Index(fields=["issue_date", "id"], name="document_date"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "series", "fiscal_year", "sequence"],
                condition=Q(sequence__isnull=False),
                name="one_document_per_number",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.number or self.pk}"

    @property
    def is_sales(self) -> bool:
        return self.kind in self.SALES_KINDS

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT

    @property
    def is_received(self) -> bool:
        return self.kind in self.RECEIVED_KINDS

    @property
    def can_be_marked(self) -> bool:
        return self.kind in self.ISSUED_KINDS and self.status in {
            self.Status.ISSUED,
            self.Status.SENT,
        }

    @property
    def can_be_credited(self) -> bool:
        return self.kind == self.Kind.SALES_INVOICE and self.status in {
            self.Status.ISSUED,
            self.Status.SENT,
            self.Status.PAID,
        }

    @property
    def awaits_decision(self) -> bool:
        return self.kind == self.Kind.INCOMING and self.status == self.Status.RECEIVED

    @property
    def awaits_addressee_confirmation(self) -> bool:
        """Addressed to another company and not confirmed as this company's: never sent to the
        accountant automatically."""
        return bool(self.addressed_to) and self.addressee_confirmed_at is None

    def validation_findings(self) -> list[dict[str, Any]]:
        findings = self.validation.get("findings", []) if self.validation else []
        return [f for f in findings if isinstance(f, dict)]


class DocumentLine(models.Model):
    """One line of a document written here (received documents keep their lines in their UBL)."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField()
    description = models.CharField(_("description"), max_length=500)
    quantity = models.DecimalField(_("quantity"), max_digits=14, decimal_places=4)
    unit_price = models.DecimalField(_("unit price"), max_digits=14, decimal_places=4)
    vat_category = models.CharField(_("VAT category"), max_length=2, default="S")
    vat_rate = models.DecimalField(_("VAT rate"), max_digits=5, decimal_places=2, default=21)
    exemption_reason = models.CharField(_("exemption reason"), max_length=300, blank=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.description} × {self.quantity}"

    @property
    def net_amount(self) -> Decimal:
        return round_amount(self.quantity * self.unit_price)
