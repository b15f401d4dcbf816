"""The device protocol v1: what the service and the downloader say to each other.

This package depends on pydantic only, so that both sides share one definition of every
message and neither can drift from the other.
"""

from ledgerdrop_protocol.models import (
    PROTOCOL_VERSION,
    Ack,
    AckBatch,
    AckResult,
    DeviceSettings,
    DeviceStatus,
    FailReason,
    FailReport,
    MainFolderProblem,
    Offer,
    Offers,
    PairingRequest,
    PairingStarted,
    TokenError,
    TokenGranted,
    TokenRequest,
)
from ledgerdrop_protocol.problems import Problem

__all__ = [
    "PROTOCOL_VERSION",
    "Ack",
    "AckBatch",
    "AckResult",
    "DeviceSettings",
    "DeviceStatus",
    "FailReason",
    "FailReport",
    "MainFolderProblem",
    "Offer",
    "Offers",
    "PairingRequest",
    "PairingStarted",
    "Problem",
    "TokenError",
    "TokenGranted",
    "TokenRequest",
]
