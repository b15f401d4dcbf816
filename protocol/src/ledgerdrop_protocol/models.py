"""Messages of the device API (`routes`). Fields may be added; none renamed or removed."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

PROTOCOL_VERSION = "1"

SHA256_PATTERN = r"^[0-9a-f]{64}$"
# A delivery's id is a 64-bit database key: a larger number names nothing, and refused here it
# never reaches a query (where SQLite and PostgreSQL fail on it).
MAX_ID = 2**63 - 1
DeliveryId = Annotated[int, Field(ge=1, le=MAX_ID)]


class _Message(BaseModel):
    # Unknown fields are ignored so that an older agent keeps working against a newer server.
    model_config = ConfigDict(extra="ignore", frozen=True)


class PairingRequest(_Message):
    """What a downloader says about itself when it asks to be paired (RFC 8628 §3.1)."""

    name: str = Field(min_length=1, max_length=100)
    hostname: str = Field(default="", max_length=255)
    os: str = Field(default="", max_length=100)
    os_user: str = Field(default="", max_length=100)
    agent_version: str = Field(default="", max_length=50)


class PairingStarted(_Message):
    """The device authorization response (RFC 8628 §3.2)."""

    device_code: str
    user_code: str
    verification_uri: str
    verification_uri_complete: str
    expires_in: int
    interval: int


class TokenRequest(_Message):
    """Either the device code of a pairing, or a one-time enrolment key with the device's facts."""

    device_code: str | None = None
    enrolment_key: str | None = None
    name: str = Field(default="", max_length=100)
    hostname: str = Field(default="", max_length=255)
    os: str = Field(default="", max_length=100)
    os_user: str = Field(default="", max_length=100)
    agent_version: str = Field(default="", max_length=50)

    @model_validator(mode="after")
    def _one_way_to_pair(self) -> TokenRequest:
        if bool(self.device_code) == bool(self.enrolment_key):
            raise ValueError("give either device_code or enrolment_key")
        return self


class TokenGranted(_Message):
    device_id: int
    token: str


class TokenError(_Message):
    """RFC 8628 §3.5 error answer of the token endpoint."""

    error: Literal[
        "authorization_pending", "slow_down", "expired_token", "access_denied", "invalid_grant"
    ]
    error_description: str = ""


class DeviceSettings(_Message):
    root_folder: str


class Offer(_Message):
    """One file the device should place: where it goes, how big it is and what it hashes to."""

    id: DeliveryId
    relative_path: str
    size: int = Field(ge=0)
    sha256: str = Field(pattern=SHA256_PATTERN)
    content_url: str


class Offers(_Message):
    settings: DeviceSettings
    folders: list[str] = Field(default_factory=list)
    deliveries: list[Offer] = Field(default_factory=list)
    # An opaque token of `settings` and `folders`. A device that sends it back as the `state`
    # query parameter is answered at once when they changed since, instead of at the end of
    # its wait: a new dossier's folders appear without delay, even at start-up.
    state: str = ""


class Ack(_Message):
    """Sent only after the file is durably in place.

    `placed_path` is relative to the main folder: the path actually written."""

    id: DeliveryId
    sha256: str = Field(pattern=SHA256_PATTERN)
    placed_path: str


class AckBatch(_Message):
    acks: list[Ack] = Field(min_length=1, max_length=1000)


class AckResult(_Message):
    acknowledged: list[int]


class FailReason(StrEnum):
    CHECKSUM_MISMATCH = "checksum_mismatch"
    UNSAFE_PATH = "unsafe_path"
    UNSAFE_MAIN_FOLDER = "unsafe_main_folder"
    FOLDER_MISSING = "folder_missing"
    FOLDER_NOT_WRITABLE = "folder_not_writable"
    DISK_FULL = "disk_full"
    DOWNLOAD_FAILED = "download_failed"
    OTHER = "other"


class FailReport(_Message):
    reason: FailReason
    message: str = Field(default="", max_length=2000)


class MainFolderProblem(StrEnum):
    MISSING = "missing"  # does not exist, and cannot be made: its parent is missing too
    VANISHED = "vanished"  # was in use and is gone (a removed drive, an unmounted share)
    NOT_WRITABLE = "not_writable"
    REFUSED = "refused"  # not usable on this machine (a Windows path on Linux, its policy)
    OTHER = "other"


class DeviceStatus(_Message):
    """`POST status`: what the device found when it last tried its main folder, sent when that
    changes. Without a problem the folder is ready; with one, nothing can be placed until it is
    solved on the device, and the service shows why instead of "online"."""

    main_folder: str = Field(default="", max_length=1000)  # as the device uses it
    problem: MainFolderProblem | None = None
    message: str = Field(default="", max_length=2000)


BUNDLE_MEDIA_TYPE = "application/vnd.ledgerdrop.bundle"
MAX_BUNDLE_IDS = 500


class ContentsRequest(_Message):
    """`POST deliveries/contents`: the bytes of several deliveries in one answer, so that a
    backlog of small files costs one request per batch instead of one per file."""

    ids: list[DeliveryId] = Field(min_length=1, max_length=MAX_BUNDLE_IDS)


class BundlePart(_Message):
    """The header of one file in a bundle (`BUNDLE_MEDIA_TYPE`): one JSON line, then exactly
    `size` bytes. Deliveries the device may not have (unknown, another device's) are left out."""

    id: int
    size: int = Field(ge=0)
    sha256: str = Field(pattern=SHA256_PATTERN)
