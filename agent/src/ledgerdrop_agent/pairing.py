"""Getting a credential: the RFC 8628 device flow, or a one-time enrolment key."""

from __future__ import annotations

import getpass
import platform
import socket
import sys
import time
from collections.abc import Callable

from ledgerdrop_agent import __version__
from ledgerdrop_agent.client import DeviceClient, ServerUnavailable
from ledgerdrop_agent.i18n import _
from ledgerdrop_protocol import PairingRequest, PairingStarted, TokenGranted, TokenRequest

WINDOWS_11_BUILD = 22000
SLOW_DOWN_STEP = 5  # RFC 8628 §3.5: "the interval MUST be increased by 5 seconds"


class PairingFailed(Exception):
    pass


def describe_device(name: str | None = None) -> PairingRequest:
    """What the firm user sees when confirming the code: name, host, OS and OS user."""
    hostname = socket.gethostname()
    try:
        os_user = getpass.getuser()
    except (OSError, KeyError):  # no login name, e.g. a container started with a bare uid
        os_user = ""
    return PairingRequest(
        name=(name or hostname or "downloader")[:100],
        hostname=hostname[:255],
        os=operating_system()[:100],
        os_user=os_user[:100],
        agent_version=__version__,
    )


def operating_system() -> str:
    """ "Windows 11", "Linux 6.1.0"... On Windows from the kernel's version rather than
    `platform`, whose WMI queries can hang on a busy machine (and abort under Wine)."""
    if sys.platform == "win32":
        build = sys.getwindowsversion().build
        # Windows 11 kept major version 10; its builds start at 22000.
        return f"Windows {11 if build >= WINDOWS_11_BUILD else 10}"
    return f"{platform.system()} {platform.release()}".strip()


def pair_with_code(
    client: DeviceClient,
    device: PairingRequest,
    *,
    on_started: Callable[[PairingStarted], None],
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> TokenGranted:
    started = client.start_pairing(device)
    on_started(started)
    interval = max(1, started.interval)
    deadline = clock() + started.expires_in
    while clock() < deadline:
        sleep(interval)
        try:
            answer = client.request_token(TokenRequest(device_code=started.device_code))
        except ServerUnavailable:
            continue  # the code stays valid on the server; a blip must not end the pairing
        if isinstance(answer, TokenGranted):
            return answer
        if answer.error == "slow_down":
            interval += SLOW_DOWN_STEP
        elif answer.error != "authorization_pending":
            raise PairingFailed(_explain(answer.error, answer.error_description))
    raise PairingFailed(_explain("expired_token", ""))


def pair_with_key(client: DeviceClient, device: PairingRequest, key: str) -> TokenGranted:
    answer = client.request_token(
        TokenRequest(enrolment_key=key, **device.model_dump(exclude_defaults=True))
    )
    if isinstance(answer, TokenGranted):
        return answer
    raise PairingFailed(_explain(answer.error, answer.error_description))


def _refusals() -> dict[str, str]:
    return {
        "expired_token": _("the pairing code expired before anyone confirmed it"),
        "access_denied": _("the pairing was refused on the server"),
        "invalid_grant": _(
            "the server did not accept this code or key (wrong, expired or already used)"
        ),
    }


def _explain(error: str, description: str) -> str:
    text = _refusals().get(error) or _("the server answered {error}").format(error=error)
    return f"{text} ({description})" if description else text
