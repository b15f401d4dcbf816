"""Download devices, how they are paired, and the deliveries they place.

This app decides how a file travels to a device; it knows nothing about BOB or any accounting
package: a connector gives it a relative path and the bytes."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from typing import ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
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


# `c:\bob-demat`, `D:/Demat`, `\\server\share\demat`, `/srv/bob-demat` or `~/bob-demat`: the
# main folder is read on the device, so any absolute path of either family is acceptable, but a
# relative one would depend on where the service happens to start.
_ABSOLUTE_FOLDER = re.compile(r"^(?:[A-Za-z]:[\\/]|\\\\[^\\/]+[\\/][^\\/]+|/|~(?:/|$))")
# A device counts as online until `Device.online_until`. Any request moves it to at least this
# many seconds ahead; a long-poll, to its end plus a moment to ask again; a long-poll whose
# connection drops (the downloader stopped, or its PC left the network) ends it at once.
ONLINE_AFTER_CONTACT = dt.timedelta(seconds=15)


def validate_root_folder(value: str) -> None:
    if any(ord(ch) < 32 for ch in value) or not _ABSOLUTE_FOLDER.match(value):
        raise ValidationError(
            _(
                "Enter an absolute folder, such as c:\\bob-demat on Windows "
                "or /home/kevin/bob-demat on Linux."
            ),
            code="not_absolute",
        )


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
    root_folder = models.CharField(
        _("main folder"), max_length=255, validators=[validate_root_folder]
    )
    is_shared_server = models.BooleanField(_("shared server"), default=False)
    token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    online_until = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects: ClassVar[DeviceQuerySet] = DeviceQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            # One shared server per firm: the device that "shared server" means when sending.
            models.UniqueConstraint(
                fields=["firm"],
                condition=models.Q(is_shared_server=True, revoked_at__isnull=True),
                name="one_shared_server_per_firm",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_online(self) -> bool:
        return self.online_until is not None and timezone.now() < self.online_until

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


class CodeGuess(models.Model):
    """One user code entered on the verification page. Kept in the database, not in a cache,
    so that the guess limit holds across server processes and restarts."""

    firm = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)
    matched = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["firm", "at"]), models.Index(fields=["user", "at"])]

    def __str__(self) -> str:
        return f"code guess by {self.user_id} for {self.firm_id} at {self.at:%H:%M:%S}"


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


# What the downloader reports (ledgerdrop_protocol.FailReason), in words for the firm's pages.
FAILURE_REASONS = {
    "checksum_mismatch": _("the file received differs from the file sent"),
    "unsafe_path": _("the file path was refused by the device"),
    "folder_missing": _("the main folder does not exist"),
    "folder_not_writable": _("the main folder is not writable"),
    "disk_full": _("the disk is full"),
    "download_failed": _("the download failed"),
    "other": _("another error"),
}


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

    @property
    def failure_reason_label(self) -> str:
        return str(FAILURE_REASONS.get(self.failure_reason, self.failure_reason))
