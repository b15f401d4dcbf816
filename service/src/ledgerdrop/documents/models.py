"""Documents a company issues or receives, with their files (stored by SHA-256, never changed)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from ledgerdrop.accounts.models import Organisation


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

    SALES_KINDS = frozenset({Kind.SALES_INVOICE, Kind.CREDIT_NOTE})

    company = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    status = models.CharField(max_length=16, choices=Status.choices)
    number = models.CharField(_("number"), max_length=64, blank=True)
    issue_date = models.DateField(_("issue date"))
    currency = models.CharField(max_length=3, default="EUR")
    total = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    counterparty_name = models.CharField(max_length=200, blank=True)
    ubl_sha256 = models.CharField(max_length=64, blank=True)
    ubl_size = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-issue_date", "-id"]
        indexes = [models.Index(fields=["company", "kind", "status"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.number or self.pk}"

    @property
    def is_sales(self) -> bool:
        return self.kind in self.SALES_KINDS
