"""A firm's connectors to the packages of the catalogue (`catalogue.PRESETS`): its settings per
package, the dossiers it connects with their folders or addresses, and what each connection
has sent."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ledgerdrop.accounts.models import Dossier, Organisation, User
from ledgerdrop.connectors.bob_demat.models import first_day_of_month
from ledgerdrop.connectors.presets import reasons
from ledgerdrop.delivery.models import Delivery, Device
from ledgerdrop.documents.models import Document


class ConnectorSettings(models.Model):
    """One package switched on (or off) for a firm, with its default device."""

    firm = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    app = models.CharField(max_length=32)
    enabled = models.BooleanField(default=False)
    default_device = models.ForeignKey(
        Device, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["firm", "app"], name="one_settings_per_firm_and_app")
        ]

    def __str__(self) -> str:
        return f"{self.app} settings of {self.firm}"


class Connection(models.Model):
    """A dossier connected to one package: where its documents go."""

    firm = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    app = models.CharField(max_length=32)
    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="+")
    dossier_code = models.CharField(_("dossier code"), max_length=20, blank=True)
    device = models.ForeignKey(
        Device, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    path_template = models.CharField(_("folder"), max_length=200, blank=True)
    file_template = models.CharField(_("file name"), max_length=200, blank=True)
    # The words {direction} stands for, by "sales" and "purchases".
    direction_words = models.JSONField(default=dict)
    payload = models.CharField(_("files"), max_length=16)
    # E-mail connectors: the addresses, by the preset's keys.
    addresses = models.JSONField(default=dict)
    # The nightly automatic transfer, with the rules of BOB Demat's (S8).
    auto_transfer = models.BooleanField(
        _("Automatically transfer purchase and sales documents"), default=False
    )
    start_date = models.DateField(_("start date"), default=first_day_of_month)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["app", "dossier_code", "id"]
        constraints = [
            models.UniqueConstraint(fields=["app", "dossier"], name="one_connection_per_app")
        ]

    def __str__(self) -> str:
        return f"{self.app}: {self.dossier}"


class Shipment(models.Model):
    """One file of a document sent through a connection. The first of each document and part
    is unique per connection: that is what keeps a document from going twice by itself (a
    package that took the file away, or Venice refusing a duplicate); sending again by hand
    adds a shipment marked `again`."""

    class Origin(models.TextChoices):
        ACCOUNTANT = "accountant", _("sent by the accountant")
        CLIENT = "client", _("sent by the client")
        AUTOMATIC = "automatic", _("automatic transfer")
        AGAIN = "again", _("sent again")

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="shipments")
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="+")
    part = models.CharField(max_length=8)  # "ubl" or "pdf"; "email" for a whole message
    # A folder preset's file goes through a device; an e-mail preset's message goes by SMTP.
    delivery = models.ForeignKey(
        Delivery, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    message = models.OneToOneField(
        "Message", null=True, blank=True, on_delete=models.PROTECT, related_name="shipment"
    )
    origin = models.CharField(max_length=16, choices=Origin.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "document", "part"],
                condition=~Q(origin="again"),
                name="one_first_shipment_per_part",
            ),
            models.CheckConstraint(
                condition=Q(delivery__isnull=True) ^ Q(message__isnull=True),
                name="shipment_by_device_or_by_email",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.document} ({self.part}) via {self.connection}"


class Message(models.Model):
    """One e-mail of an e-mail preset: a document to one address, tried until the receiving
    server accepts or refuses it for good. Its states are a delivery's, so that the client's
    icon and the history read the same for both mechanisms."""

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")

    to = models.EmailField()
    subject = models.CharField(max_length=250)
    body = models.TextField()
    state = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # The receiving server's last answer ("250 2.0.0 Ok: queued as …"), kept in the history.
    answer = models.TextField(blank=True)
    failure_message = models.TextField(blank=True)
    # Why it waits or failed, as a reason (`reasons`): a code and its values, said in the
    # reader's language. `failure_message` keeps the words of the worker that recorded it (the
    # service's default language): all that a message recorded before the codes has.
    failure_code = models.CharField(max_length=40, blank=True)
    failure_params = models.JSONField(default=dict, blank=True)
    queued_at = models.DateTimeField(default=timezone.now)
    queued_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["state", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.subject} to {self.to}"

    def set_failure(self, code: str, params: dict[str, Any]) -> None:
        """Why it waits or failed (no code: it did not), as a reason and in the active
        language's words."""
        self.failure_code, self.failure_params = code, params
        self.failure_message = reasons.text(code, params) if code else ""

    @property
    def failure_text(self) -> str:
        """Why it waits or failed, in the reader's language."""
        if self.failure_code:
            return reasons.text(self.failure_code, self.failure_params)
        return self.failure_message

    @property
    def waiting_reason(self) -> str:
        """Why a queued message has not gone yet: the temporary refusal it will retry after."""
        return self.failure_text if self.state == self.State.QUEUED else ""
