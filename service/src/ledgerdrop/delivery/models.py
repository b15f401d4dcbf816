"""Download devices, how they are paired, and the deliveries they place.

This app decides how a file travels to a device; it knows nothing about BOB or any accounting
package: a connector gives it a relative path and the bytes."""

from __future__ import annotations

import hashlib
import secrets
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ledgerdrop.accounts.models import Organisation


def hash_secret(secret: str) -> str:
    # The secrets are long and random, so a plain SHA-256 is enough to make a stolen database
    # useless for impersonating a device (no dictionary to attack).
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(32)}"


class DeviceQuerySet(models.QuerySet["Device"]):
    def active(self) -> DeviceQuerySet:
        return self.filter(revoked_at__isnull=True)


class Device(models.Model):
    """A downloader on one of the firm's PCs or servers."""

    firm = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="devices")
    name = models.CharField(_("name"), max_length=100)
    hostname = models.CharField(_("host name"), max_length=255, blank=True)
    os = models.CharField(_("operating system"), max_length=100, blank=True)
    os_user = models.CharField(_("OS user"), max_length=100, blank=True)
    agent_version = models.CharField(_("downloader version"), max_length=50, blank=True)
    root_folder = models.CharField(_("main folder"), max_length=255)
    is_shared_server = models.BooleanField(_("shared server"), default=False)
    token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects: ClassVar[DeviceQuerySet] = DeviceQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    @staticmethod
    def default_root_folder(os_name: str) -> str:
        return r"c:\bob-demat" if os_name.lower().startswith("win") else "~/bob-demat"


class DevicePairing(models.Model):
    """An RFC 8628 device authorization in progress."""

    class State(models.TextChoices):
        PENDING = "pending"
        APPROVED = "approved"
        DENIED = "denied"
        CONSUMED = "consumed"

    device_code_hash = models.CharField(max_length=64, unique=True)
    user_code = models.CharField(max_length=16, db_index=True)
    name = models.CharField(max_length=100)
    hostname = models.CharField(max_length=255, blank=True)
    os = models.CharField(max_length=100, blank=True)
    os_user = models.CharField(max_length=100, blank=True)
    agent_version = models.CharField(max_length=50, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    interval = models.PositiveSmallIntegerField(default=5)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    last_polled_at = models.DateTimeField(null=True, blank=True)
    device = models.OneToOneField(Device, null=True, blank=True, on_delete=models.CASCADE)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )

    def __str__(self) -> str:
        return f"{self.user_code} ({self.name})"

    @property
    def is_expired(self) -> bool:
        return timezone.now() >= self.expires_at


class EnrolmentKey(models.Model):
    """A one-time key that pairs an unattended server without anyone typing a code."""

    firm = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="enrolment_keys")
    key_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    device = models.OneToOneField(Device, null=True, blank=True, on_delete=models.SET_NULL)

    def __str__(self) -> str:
        return f"enrolment key #{self.pk}"


class Delivery(models.Model):
    """One file to place on one device, and what became of it."""

    class State(models.TextChoices):
        QUEUED = "queued", _("queued")
        DELIVERED = "delivered", _("delivered")
        FAILED = "failed", _("failed")

    firm = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="deliveries")
    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="deliveries")
    document = models.ForeignKey(
        "documents.Document",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="deliveries",
    )
    relative_path = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    state = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED)
    queued_at = models.DateTimeField(default=timezone.now)
    queued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    delivered_at = models.DateTimeField(null=True, blank=True)
    placed_path = models.CharField(max_length=255, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    failure_reason = models.CharField(max_length=32, blank=True)
    failure_message = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["device", "state", "id"]),
            models.Index(fields=["state", "queued_at"]),
        ]
        verbose_name_plural = "deliveries"

    def __str__(self) -> str:
        return f"{self.relative_path} → {self.device} ({self.state})"
