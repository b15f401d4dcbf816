"""Download devices, how they are paired, and the deliveries they place.

This app decides how a file travels to a device; it knows nothing about BOB or any accounting
package, nor about documents: a connector gives it a relative path, the bytes, and a reference
to what the file is a copy of (`Delivery.source_type`, `source_id`)."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable
from typing import Any, ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ledgerdrop.accounts.models import Organisation
from ledgerdrop_protocol.paths import Refusal, main_folder_problem


def hash_secret(secret: str) -> str:
    # The secrets are long and random, so a plain SHA-256 is enough to make a stolen database
    # useless for impersonating a device (no dictionary to attack).
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(32)}"


# A device counts as online until `Device.online_until`. Any request moves it to at least this
# many seconds ahead; a long-poll, to its end plus a moment to ask again; a long-poll whose
# connection drops (the downloader stopped, or its PC left the network) ends it at once.
ONLINE_AFTER_CONTACT = dt.timedelta(seconds=15)

# Why a main folder is refused (ledgerdrop_protocol.paths), in words for the firm's pages. The
# downloader refuses the same folders itself, whatever the server says.
_DEDICATED = _("Choose a folder of its own, such as c:\\bob-demat or /srv/bob-demat.")
ROOT_FOLDER_REFUSALS = {
    Refusal.NOT_ABSOLUTE: _(
        "Enter an absolute folder, such as c:\\bob-demat on Windows "
        "or /home/kevin/bob-demat on Linux."
    ),
    Refusal.NOT_PLAIN: _(
        "Write the folder in full: no . or .., no environment variables, no short names "
        "such as PROGRA~1, no device paths or names (CON, NUL) and none of the characters "
        '< > " | ? *.'
    ),
    Refusal.ROOT: _("The root of a drive or of the file system cannot be the main folder."),
    Refusal.SYSTEM: _("This is a system folder: the downloader never writes there."),
    Refusal.PROGRAMS: _("Programs are installed here: the downloader never writes there."),
    Refusal.STARTUP: _(
        "Files in this folder start at sign-in or start-up: the downloader never writes there."
    ),
    Refusal.PROFILE: _(
        "This is a user profile folder or a folder of a user's settings: the downloader never "
        "writes there."
    ),
    Refusal.NETWORK: _(
        "This is a network folder: only the device marked as the firm's shared server may use "
        "one, and the downloader on that machine must allow it "
        "(ledgerdrop-agent allow-network-folder)."
    ),
}


def root_folder_error(value: str, *, shared_server: bool) -> ValidationError | None:
    """Why `value` cannot be a device's main folder, in the user's language, or None. A network
    folder is for the device marked as the firm's shared server only."""
    problem = main_folder_problem(value, network_allowed=shared_server)
    if problem is None:
        return None
    message = str(ROOT_FOLDER_REFUSALS[problem.refusal])
    if problem.refusal not in {Refusal.NOT_ABSOLUTE, Refusal.NETWORK}:
        message = f"{message} {_DEDICATED}"
    return ValidationError(message, code=f"root_folder_{problem.refusal.value}")


def validate_root_folder(value: str) -> None:
    """The field's own check. Whether a network folder is allowed depends on the device being
    the shared server: the form and `services.update_device` check that with the rest."""
    if (error := root_folder_error(value, shared_server=True)) is not None:
        raise error


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
    # What the downloader last reported about its main folder (`POST status`): blank when it
    # is ready, else a `MainFolderProblem` and the device's own words.
    folder_problem = models.CharField(max_length=16, blank=True)
    folder_problem_message = models.TextField(blank=True)
    folder_problem_since = models.DateTimeField(null=True, blank=True)
    reported_main_folder = models.CharField(max_length=1000, blank=True)

    objects: ClassVar[DeviceQuerySet] = DeviceQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            # One shared server per firm: the device that "shared server" means when sending.
            models.UniqueConstraint(
                fields=["firm"],
                condition=models.Q(is_shared_server=True, revoked_at__isnull=True),
                name="one_shared_server_per_firm",
            ),
            # What a delivery's (device, firm) references: a device of that firm (0008).
            models.UniqueConstraint(fields=["id", "firm"], name="device_of_firm"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_online(self) -> bool:
        return self.online_until is not None and timezone.now() < self.online_until

    @property
    def folder_problem_label(self) -> str:
        """Why nothing can be placed on this device now, in the reader's language; "" when its
        main folder is ready."""
        if not self.folder_problem:
            return ""
        return str(MAIN_FOLDER_PROBLEMS.get(self.folder_problem, MAIN_FOLDER_PROBLEMS["other"]))

    @staticmethod
    def default_root_folder(os_name: str) -> str:
        return r"c:\bob-demat" if os_name.lower().startswith("win") else "~/bob-demat"


# What the downloader reports about its main folder (ledgerdrop_protocol.MainFolderProblem).
MAIN_FOLDER_PROBLEMS = {
    "missing": _("the main folder does not exist and cannot be created (its parent is missing)"),
    "vanished": _(
        "the main folder has disappeared (a removed drive or a disconnected network share?); "
        "the downloader does not create it again"
    ),
    "not_writable": _("the main folder is not writable"),
    "refused": _("the main folder cannot be used on this device"),
    "other": _("the main folder cannot be used"),
}


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
    "unsafe_main_folder": _("the device refused the main folder"),
    "folder_missing": _("the main folder does not exist"),
    "folder_not_writable": _("the main folder is not writable"),
    "disk_full": _("the disk is full"),
    "download_failed": _("the download failed"),
    "other": _("another error"),
}
# Why a delivery was cancelled before its device placed it.
UNLINKED = "company_unlinked"
CANCEL_REASONS = {UNLINKED: _("the company removed its accountant")}
# The same, said in full to the firm (the API's `failure_message` of a cancelled delivery).
CANCEL_MESSAGES = {
    UNLINKED: _("The company removed its accountant: its documents no longer go to this firm.")
}


class DeliveryQuerySet(models.QuerySet["Delivery"]):
    def carrying(
        self, model: type[models.Model], ids: Iterable[int] | models.QuerySet[Any]
    ) -> DeliveryQuerySet:
        """The deliveries of copies of these objects of `model` (documents, say); `ids` may be
        a query of their ids."""
        return self.filter(source_type=source_type(model), source_id__in=ids)


def source_type(model: type[models.Model] | models.Model) -> str:
    """How a delivery names the kind of thing it carries a copy of: "documents.document"."""
    return model._meta.label_lower


class Delivery(models.Model):
    """One file to place on one device, and what became of it."""

    class State(models.TextChoices):
        QUEUED = "queued", _("queued")
        DELIVERED = "delivered", _("delivered")
        FAILED = "failed", _("failed")
        CANCELLED = "cancelled", _("cancelled")

    # On PostgreSQL one foreign key checks both: (device, firm) references a device of that
    # firm (migration 0008), which proves the firm exists too — one check per row instead of
    # two when the night queues a million. The device is indexed by (device, state, id) below.
    firm = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="deliveries", db_constraint=False
    )
    device = models.ForeignKey(
        Device,
        on_delete=models.CASCADE,
        related_name="deliveries",
        db_index=False,
        db_constraint=False,
    )
    # What the file is a copy of, as its owner names it ("documents.document" and its id), with
    # no foreign key: this app knows nothing of the apps whose files it carries.
    source_type = models.CharField(max_length=100, blank=True)
    source_id = models.PositiveBigIntegerField(null=True, blank=True)
    # The company whose file travels to its firm: when it removes its accountant, what is still
    # on its way is cancelled (`services.cancel_company_deliveries`).
    company = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    relative_path = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    state = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED)
    queued_at = models.DateTimeField(default=timezone.now)
    # Indexed only where set (below): the nightly transfer queues a million with nobody.
    queued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, db_index=False
    )
    delivered_at = models.DateTimeField(null=True, blank=True)
    placed_path = models.CharField(max_length=255, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    # Why it failed, or why it was cancelled (CANCEL_REASONS).
    failure_reason = models.CharField(max_length=32, blank=True)
    failure_message = models.TextField(blank=True)

    objects: ClassVar[DeliveryQuerySet] = DeliveryQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["device", "state", "id"]),
            models.Index(fields=["state", "queued_at"]),
            models.Index(fields=["source_type", "source_id"]),
            # What a user's removal sets to NULL (on_delete=SET_NULL).
            models.Index(
                fields=["queued_by"],
                condition=models.Q(queued_by__isnull=False),
                name="delivery_queued_by_set",
            ),
        ]
        verbose_name_plural = "deliveries"

    def __str__(self) -> str:
        return f"{self.relative_path} → {self.device} ({self.state})"

    @property
    def failure_reason_label(self) -> str:
        labels = {**FAILURE_REASONS, **CANCEL_REASONS}
        return str(labels.get(self.failure_reason, self.failure_reason))

    @property
    def failure_text(self) -> str:
        """What went wrong, in words: the device's own on a failure; on a cancellation, its
        reason in the reader's language (nothing is stored in one language for it)."""
        if self.state == self.State.CANCELLED and self.failure_reason in CANCEL_MESSAGES:
            return str(CANCEL_MESSAGES[self.failure_reason])
        return self.failure_message

    @property
    def waiting_reason(self) -> str:
        """Why a queued delivery is not fetched: its device's main folder problem, or ""."""
        if self.state != self.State.QUEUED:
            return ""
        return self.device.folder_problem_label
