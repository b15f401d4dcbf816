"""The one long-poll, as uvicorn serves it: the gate in front of Django holds a waiting poll and
Django answers it (DESIGN.md §5, `GET deliveries?wait=S`). The real processes are in
tests/system/test_long_poll.py and test_idle_long_polls.py."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

import httpx
import pytest
from asgiref.sync import sync_to_async
from django.db import connection
from django.test import Client
from pytest_django import Settings as SettingsWrapper

from ledgerdrop.config.asgi import application
from ledgerdrop.connectors.bob_demat import services as bob_demat
from ledgerdrop.core import storage
from ledgerdrop.delivery import services
from ledgerdrop.delivery.models import Device
from ledgerdrop_protocol import routes
from tests import builders

# The gate's threads and Django's request threads each use a database connection of their own.
pytestmark = pytest.mark.django_db(transaction=True)

T = TypeVar("T")


@pytest.fixture
def credential() -> services.IssuedCredential:
    return services.register_device(builders.firm(), name="PC Kevin", os="Windows 11")


def bearer(credential: services.IssuedCredential) -> dict[str, str]:
    return {"Authorization": f"Bearer {credential.token}"}


def served(scenario: Callable[[httpx.AsyncClient], Awaitable[T]]) -> T:
    """Run `scenario` against the ASGI application uvicorn serves (the long-poll gate, then
    Django), in an event loop of its own thread: the browser tests' Playwright may keep one in
    this thread."""

    async def run() -> T:
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            try:
                return await scenario(client)
            finally:
                # The connection of sync_to_async's thread: PostgreSQL would not drop the
                # test database while it is open.
                await sync_to_async(close_connection)()

    with ThreadPoolExecutor(max_workers=1) as runner:
        return runner.submit(asyncio.run, run()).result()


def close_connection() -> None:
    connection.close()  # this thread's: looked up here, not where the call is scheduled


def elsewhere(change: Callable[[], Any]) -> Awaitable[Any]:
    """`change` on a thread and connection of its own, as a worker or a person's request would
    make it while the poll waits."""

    def changed() -> Any:
        try:
            return change()
        finally:
            connection.close()

    return sync_to_async(changed, thread_sensitive=False)()


def queue_one(device: Device) -> None:
    services.queue_delivery(
        device,
        relative_path="DUPONT/ventes/20261102_2026-0042.xml",
        blob=storage.put(b"<Invoice><ID>2026-0042</ID></Invoice>"),
    )


@contextmanager
def token_lookups(token: str) -> Iterator[list[str]]:
    """The lookups of this device token while the block runs, by the one function every path
    (the gate, Django's bearer) looks a device token up with; on any thread, whichever
    database connection it uses."""
    lookups: list[str] = []
    lookup, watched = services.authenticate_device, token

    def counted(token: str) -> Device | None:
        if token == watched:
            lookups.append(token)
        return lookup(token)

    services.authenticate_device = counted
    try:
        yield lookups
    finally:
        services.authenticate_device = lookup


def test_a_waiting_poll_answers_as_soon_as_a_delivery_is_queued_in_this_process(
    credential: services.IssuedCredential,
) -> None:
    async def poll_and_queue(client: httpx.AsyncClient) -> tuple[httpx.Response, float]:
        await client.get(routes.OFFERS.url(), headers=bearer(credential))  # a running server
        poll = asyncio.create_task(
            client.get(routes.OFFERS.url(), params={"wait": 20}, headers=bearer(credential))
        )
        await asyncio.sleep(0.5)
        queued_at = time.monotonic()
        await elsewhere(lambda: queue_one(credential.device))
        answer = await poll
        return answer, time.monotonic() - queued_at

    answer, waited = served(poll_and_queue)

    assert len(answer.json()["deliveries"]) == 1
    assert waited < 10  # woken by the delivery, long before its 20 s wait ends


def test_a_poll_answered_after_a_wake_up_looks_its_token_up_once(
    credential: services.IssuedCredential,
) -> None:
    async def poll_and_queue(client: httpx.AsyncClient) -> httpx.Response:
        poll = asyncio.create_task(
            client.get(routes.OFFERS.url(), params={"wait": 20}, headers=bearer(credential))
        )
        await asyncio.sleep(0.5)
        await elsewhere(lambda: queue_one(credential.device))
        return await poll

    with token_lookups(credential.token) as lookups:
        answer = served(poll_and_queue)

    assert len(answer.json()["deliveries"]) == 1
    assert len(lookups) == 1, lookups


def test_a_poll_with_nothing_returns_after_its_wait_having_looked_its_token_up_once(
    credential: services.IssuedCredential,
) -> None:
    async def poll(client: httpx.AsyncClient) -> tuple[httpx.Response, float]:
        started = time.monotonic()
        answer = await client.get(
            routes.OFFERS.url(), params={"wait": 1}, headers=bearer(credential)
        )
        return answer, time.monotonic() - started

    with token_lookups(credential.token) as lookups:
        answer, waited = served(poll)

    assert answer.status_code == 200
    assert answer.json()["deliveries"] == []
    assert 0.9 < waited < 10  # its 1 s wait, not the server's bound
    assert len(lookups) == 1, lookups


@contextmanager
def state_looks(watched: Device) -> Iterator[list[int]]:
    """The looks at this device's state (its folders from every connector, what a poll's start
    costs most) while the block runs, by the one function every path computes it with."""
    looks: list[int] = []
    look = services.told_to_device

    def counted(device: Device) -> services.ToldToDevice:
        if device.pk == watched.pk:
            looks.append(device.pk)
        return look(device)

    services.told_to_device = counted
    try:
        yield looks
    finally:
        services.told_to_device = look


@contextmanager
def queued_right_after(step: str, device: Device) -> Iterator[None]:
    """A delivery queued for the device, and committed, right after the gate's first call of
    `services.<step>` while it starts holding a poll: news that comes at that very moment."""
    original = getattr(services, step)
    queued: list[bool] = []

    def then_queue(*args: Any) -> Any:
        result = original(*args)
        if not queued:
            queued.append(True)
            queue_one(device)
        return result

    setattr(services, step, then_queue)
    try:
        yield
    finally:
        setattr(services, step, original)


def test_a_held_poll_looks_at_the_devices_state_once_when_it_starts(
    credential: services.IssuedCredential,
) -> None:
    other = services.register_device(credential.device.firm, name="PC Julie", os="Windows 11")

    async def hold_then_queue(client: httpx.AsyncClient) -> tuple[int, httpx.Response]:
        # Another downloader already waiting: the process listens for wake-ups, and a listener
        # (re)connecting wakes every waiting poll once to look again, which is not a start.
        already = asyncio.create_task(
            client.get(routes.OFFERS.url(), params={"wait": 2}, headers=bearer(other))
        )
        await asyncio.sleep(0.5)
        poll = asyncio.create_task(
            client.get(routes.OFFERS.url(), params={"wait": 20}, headers=bearer(credential))
        )
        await asyncio.sleep(0.5)
        looks_while_held = len(looks)
        await elsewhere(lambda: queue_one(credential.device))
        answer = await poll
        await already
        return looks_while_held, answer

    with state_looks(credential.device) as looks:
        looks_while_held, answer = served(hold_then_queue)

    assert looks_while_held == 1, looks
    assert len(answer.json()["deliveries"]) == 1  # and it still hears of the delivery


@pytest.mark.parametrize(
    "step",
    [
        # Its token looked up, the poll not yet registered for wake-ups.
        "authenticate_device",
        # Its state looked at and found quiet, the poll being marked held.
        "note_poll_held",
    ],
)
def test_a_delivery_queued_while_a_poll_starts_being_held_answers_it_at_once(
    credential: services.IssuedCredential, step: str
) -> None:
    async def poll(client: httpx.AsyncClient) -> tuple[httpx.Response, float]:
        started = time.monotonic()
        answer = await client.get(
            routes.OFFERS.url(), params={"wait": 20}, headers=bearer(credential)
        )
        return answer, time.monotonic() - started

    with queued_right_after(step, credential.device):
        answer, waited = served(poll)

    assert len(answer.json()["deliveries"]) == 1
    assert waited < 10  # not at the end of its 20 s wait


def test_a_device_revoked_while_its_poll_waits_gets_401_at_once_and_on_its_next_poll(
    credential: services.IssuedCredential,
) -> None:
    async def poll_and_revoke(client: httpx.AsyncClient) -> tuple[httpx.Response, float, Any]:
        poll = asyncio.create_task(
            client.get(routes.OFFERS.url(), params={"wait": 20}, headers=bearer(credential))
        )
        await asyncio.sleep(0.5)
        revoked_at = time.monotonic()
        await elsewhere(lambda: services.revoke_device(credential.device, by=None))
        answer = await poll
        waited = time.monotonic() - revoked_at
        again = await client.get(
            routes.OFFERS.url(), params={"wait": 20}, headers=bearer(credential)
        )
        return answer, waited, again

    answer, waited, again = served(poll_and_revoke)

    assert answer.status_code == 401
    assert waited < 10  # woken by the delivery, long before its 20 s wait ends
    assert again.status_code == 401
    assert again.json()["title"] == "Not authenticated"


def test_a_poll_is_held_no_longer_than_the_servers_bound(
    credential: services.IssuedCredential, settings: SettingsWrapper
) -> None:
    settings.LEDGERDROP_LONG_POLL_MAX_SECONDS = 1

    async def poll(client: httpx.AsyncClient) -> tuple[httpx.Response, float]:
        started = time.monotonic()
        answer = await client.get(
            routes.OFFERS.url(), params={"wait": 600}, headers=bearer(credential)
        )
        return answer, time.monotonic() - started

    answer, waited = served(poll)

    assert answer.json()["deliveries"] == []
    assert 0.9 < waited < 10  # its 1 s wait, not the server's bound


def test_a_poll_with_an_outdated_state_is_answered_at_once_with_the_new_folders(
    credential: services.IssuedCredential,
) -> None:
    device = credential.device
    offers = routes.OFFERS.url()

    async def poll_twice(client: httpx.AsyncClient) -> tuple[Any, Any, float]:
        before = (await client.get(offers, headers=bearer(credential))).json()
        await elsewhere(lambda: connect_dupont(device))
        started = time.monotonic()
        params = {"wait": 20, "state": before["state"]}
        after = (await client.get(offers, params=params, headers=bearer(credential))).json()
        return before, after, time.monotonic() - started

    before, after, waited = served(poll_twice)

    assert waited < 10  # woken by the change, long before its 20 s wait ends
    assert after["folders"] == ["DUPONT/achats", "DUPONT/ventes"]
    assert after["state"] != before["state"]


def connect_dupont(device: Device) -> None:
    builders.connected_dossier(device.firm, builders.company(), code="DUPONT")
    bob_demat.set_default_device(device.firm, device, by=None)


def test_behind_the_gate_the_device_api_answers_at_once_the_gate_being_the_only_wait(
    credential: services.IssuedCredential,
) -> None:
    started = time.monotonic()

    answer = Client().get(routes.OFFERS.url(), {"wait": 20}, headers=bearer(credential))

    assert answer.status_code == 200
    assert answer.json()["deliveries"] == []
    assert time.monotonic() - started < 10  # not held for its 20 s wait
