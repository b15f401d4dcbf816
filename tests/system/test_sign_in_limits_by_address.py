"""The sign-in and sign-up limits count per client address as the real server sees it: without
trusted proxies (`LEDGERDROP_TRUSTED_PROXIES=0`, the default) a client cannot pick its address
by sending X-Forwarded-For, not even over loopback, where a reverse proxy usually sits."""

from __future__ import annotations

import httpx
import pytest

from tests import builders
from tests.conftest import LiveService

pytestmark = pytest.mark.system


def test_a_forged_forwarded_address_does_not_lift_a_lockout(live_service: LiveService) -> None:
    user = builders.user("kevin@fiduciaire.be")
    tokens = f"{live_service.url}/api/v1/tokens"

    answers = [
        httpx.post(
            tokens,
            json={"email": user.email, "password": "wrong-password"},
            headers={"X-Forwarded-For": f"203.0.113.{attempt}"},
        ).status_code
        for attempt in range(7)
    ]

    assert answers[:5] == [401] * 5
    assert answers[5:] == [429, 429]
