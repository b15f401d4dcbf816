"""Idle downloaders cost the server almost nothing: their waiting long-polls hold no thread
(and no database connection) each, yet a delivery still reaches its device at once."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest

from ledgerdrop.core import storage
from ledgerdrop.delivery import services
from ledgerdrop_protocol import routes
from tests import builders
from tests.conftest import LiveService, run_on_own_loop

pytestmark = pytest.mark.system

WAITING = 60


def server_threads(service: LiveService) -> int:
    status = Path(f"/proc/{service.process.pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("Threads:")))


def test_sixty_waiting_downloaders_hold_no_thread_each_and_one_still_gets_its_file(
    live_service: LiveService,
) -> None:
    firm = builders.firm()
    tokens = [services.register_device(firm, name=f"PC {i}").token for i in range(WAITING)]
    first = services.authenticate_device(tokens[0])
    assert first is not None
    url = f"{live_service.url}{routes.OFFERS.url()}"

    async def poll(client: httpx.AsyncClient, token: str) -> dict[str, object]:
        answer = await client.get(
            url, params={"wait": 30}, headers={"Authorization": f"Bearer {token}"}
        )
        return dict(answer.json())

    async def scenario() -> tuple[int, dict[str, object], float]:
        limits = httpx.Limits(max_connections=WAITING + 10)
        async with httpx.AsyncClient(timeout=60, limits=limits) as client:
            polls = [asyncio.create_task(poll(client, token)) for token in tokens]
            await asyncio.sleep(3)  # every poll is now waiting in the server
            threads = server_threads(live_service)
            queued_at = time.monotonic()
            await asyncio.to_thread(
                services.queue_delivery,
                first,
                relative_path="DUPONT/ventes/20261102_F2026-0001.xml",
                blob=storage.put(b"<Invoice/>"),
            )
            answer = await polls[0]
            latency = time.monotonic() - queued_at
            for other in polls[1:]:
                other.cancel()
            await asyncio.gather(*polls[1:], return_exceptions=True)
            return threads, answer, latency

    threads, answer, latency = run_on_own_loop(scenario())

    assert threads < WAITING // 2, f"{threads} server threads for {WAITING} waiting polls"
    assert [offer["relative_path"] for offer in answer["deliveries"]] == [  # type: ignore[attr-defined]
        "DUPONT/ventes/20261102_F2026-0001.xml"
    ]
    assert latency < 10  # woken by the delivery, long before its 30 s wait ends


def test_a_downloader_that_has_not_seen_its_current_folders_is_answered_at_once(
    live_service: LiveService,
) -> None:
    firm = builders.firm()
    credential = services.register_device(firm, name="PC Kevin")
    headers = {"Authorization": f"Bearer {credential.token}"}
    url = f"{live_service.url}{routes.OFFERS.url()}"
    current = httpx.get(url, params={"wait": 0}, headers=headers).json()["state"]

    started = time.monotonic()
    stale = httpx.get(url, params={"wait": 20, "state": "seen-before"}, headers=headers, timeout=30)
    answered_in = time.monotonic() - started

    assert stale.json()["state"] == current
    assert answered_in < 2.0


def test_a_downloader_that_has_seen_nothing_yet_is_answered_at_once(
    live_service: LiveService,
) -> None:
    credential = services.register_device(builders.firm(), name="PC Kevin")
    url = f"{live_service.url}{routes.OFFERS.url()}"

    started = time.monotonic()
    first = httpx.get(
        url,
        params={"wait": 20, "state": ""},
        headers={"Authorization": f"Bearer {credential.token}"},
        timeout=30,
    )

    assert first.json()["state"]
    assert time.monotonic() - started < 10  # not held for its 20 s wait
