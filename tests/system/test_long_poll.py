"""A downloader's waiting long-poll answers within a second of a delivery being queued by
another process — here the test process, through the ORM, as the task worker or another web
process would. On SQLite the server notices by looking; on PostgreSQL by LISTEN/NOTIFY."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from ledgerdrop.core import storage
from ledgerdrop.delivery import services
from ledgerdrop_protocol import routes
from tests import builders
from tests.conftest import LiveService

pytestmark = pytest.mark.system


def test_a_waiting_poll_returns_within_a_second_of_a_delivery_queued_elsewhere(
    live_service: LiveService,
) -> None:
    credential = services.register_device(builders.firm(), name="PC Kevin", os="Windows 11")
    answers: list[tuple[float, httpx.Response]] = []

    def poll() -> None:
        response = httpx.get(
            f"{live_service.url}{routes.OFFERS.url()}",
            params={"wait": 20},
            headers={"Authorization": f"Bearer {credential.token}"},
            timeout=30,
        )
        answers.append((time.monotonic(), response))

    poller = threading.Thread(target=poll)
    poller.start()
    time.sleep(1.5)  # the poll is held by the server by now: nothing is queued yet
    assert not answers, "the server answered an empty poll at once instead of holding it"

    delivery = services.queue_delivery(
        credential.device,
        relative_path="DUPONT/ventes/20261102_2026-0042.xml",
        blob=storage.put(b"<Invoice><ID>2026-0042</ID></Invoice>"),
    )
    queued_at = time.monotonic()
    poller.join(timeout=25)

    [(answered_at, response)] = answers
    assert response.status_code == 200
    assert [offer["id"] for offer in response.json()["deliveries"]] == [delivery.pk]
    assert answered_at - queued_at < 1.0, f"answered {answered_at - queued_at:.2f} s after"
