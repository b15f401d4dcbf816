"""The Sage BOB Demat connection of a firm: its settings, the dossiers it connects, and the
record of what each dossier has already transmitted."""

from __future__ import annotations

import datetime as dt
import re

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ledgerdrop.accounts.models import Dossier, Organisation
from ledgerdrop.delivery.models import Delivery, Device
from ledgerdrop.documents.models import Document

_DOSSIER_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,19}$")
# A folder with one of these names cannot exist on Windows, where BOB runs.
_WINDOWS_RESERVED = re.compile(r"^(CON|PRN|AUX|NUL|COM[0-9]|LPT[0-9])$", re.IGNORECASE)


def validate_dossier_code(code: str) -> None:
    """BOB dossier codes are short codes of letters and digits; they become a folder name, so
    anything else could be a path trick."""
    if not _DOSSIER_CODE.match(code):
        raise ValidationError(
            _(
                "A dossier code has 1 to 20 letters, digits, '-' or '_', and starts with a "
                "letter or digit (no spaces, dots or slashes)."
            ),
            code="invalid_dossier_code",
        )
    if _WINDOWS_RESERVED.match(code):
        raise ValidationError(
            _("%(code)s cannot be a folder name on Windows; choose another dossier code."),
            code="reserved_dossier_code",
            params={"code": code},
        )


def first_day_of_month() -> dt.date:
    return timezone.localdate().replace(day=1)


class DematSettings(models.Model):
    firm = models.OneToOneField(
        Organisation, on_delete=models.CASCADE, related_name="bob_demat_settings"
    )
    enabled = models.BooleanField(default=False)
    default_device = models.ForeignKey(
        Device, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"BOB Demat settings of {self.firm}"


class DematConnection(models.Model):
    """A dossier connected to BOB under its dossier code (S5)."""

    firm = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="bob_demat_connections"
    )
    dossier = models.OneToOneField(
        Dossier, on_delete=models.CASCADE, related_name="bob_demat_connection"
    )
    dossier_code = models.CharField(
        _("dossier code"), max_length=20, validators=[validate_dossier_code]
    )
    device = models.ForeignKey(
        Device, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    auto_transfer = models.BooleanField(
        _("Automatically transfer purchase and sales documents"), default=False
    )
    start_date = models.DateField(_("start date"), default=first_day_of_month)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["dossier_code", "id"]
        constraints = [
            # Windows folder names ignore case: DUPONT and dupont would be one folder.
            models.UniqueConstraint(Upper("dossier_code"), "firm", name="one_dossier_code_per_firm")
        ]

    def __str__(self) -> str:
        return f"{self.dossier_code} ({self.dossier.company})"


class Transmission(models.Model):
    """A document's first transmission to the accountant. Unique per document and connection:
    that constraint is what keeps two concurrent automatic transfers from queueing a document
    twice. Sending again makes a new delivery, never a second transmission."""

    class Origin(models.TextChoices):
        ACCOUNTANT = "accountant", _("sent by the accountant")
        CLIENT = "client", _("sent by the client")
        AUTOMATIC = "automatic", _("automatic transfer")

    # Indexed by the unique (connection, document) below, which starts with it.
    connection = models.ForeignKey(
        DematConnection, on_delete=models.CASCADE, related_name="transmissions", db_index=False
    )
    document = models.ForeignKey(
        Document, on_delete=models.CASCADE, related_name="bob_demat_transmissions"
    )
    first_delivery = models.ForeignKey(Delivery, on_delete=models.PROTECT, related_name="+")
    origin = models.CharField(max_length=16, choices=Origin.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "document"], name="one_transmission_per_document"
            )
        ]

    def __str__(self) -> str:
        return f"{self.document} via {self.connection}"


class AutosendRun(models.Model):
    """What one nightly automatic transfer did for one connection, shown on its page (S8)."""

    connection = models.ForeignKey(
        DematConnection, on_delete=models.CASCADE, related_name="autosend_runs"
    )
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    queued = models.PositiveIntegerField(default=0)
    # The documents the rules chose that could not be handed over (e.g. no UBL file yet).
    refused = models.PositiveIntegerField(default=0)
    # Why the run did not send anything for this connection (e.g. no default device), or "".
    skipped_reason = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["connection", "-started_at"])]

    def __str__(self) -> str:
        return f"automatic transfer of {self.connection} at {self.started_at:%Y-%m-%d %H:%M}"


class DigestSent(models.Model):
    """A firm's daily digest done for a day: the digest job run again that day (its worker
    lost mid-run) passes over the firms it already mailed."""

    firm = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["firm", "day"], name="one_digest_a_day")]

    def __str__(self) -> str:
        return f"digest of {self.firm} for {self.day}"
