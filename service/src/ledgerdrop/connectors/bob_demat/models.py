"""The Sage BOB Demat connection of a firm: its settings and the dossiers it connects."""

from __future__ import annotations

import datetime as dt

from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ledgerdrop.accounts.models import Dossier, Organisation
from ledgerdrop.delivery.models import Device

# BOB dossier codes are short letters-and-digits codes; anything else could be a path trick.
dossier_code_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9_-]{0,19}$",
    _("A dossier code has 1 to 20 letters, digits, '-' or '_', and starts with a letter or digit."),
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
    dossier = models.OneToOneField(
        Dossier, on_delete=models.CASCADE, related_name="bob_demat_connection"
    )
    dossier_code = models.CharField(
        _("dossier code"), max_length=20, validators=[dossier_code_validator]
    )
    device = models.ForeignKey(
        Device, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    auto_transfer = models.BooleanField(default=False)
    start_date = models.DateField(default=first_day_of_month)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.dossier_code} ({self.dossier.company})"
