"""`POST deliveries/contents` and `POST acks` as uvicorn serves them: a well-formed request is
answered by the gate in front of Django (`gate.py`), anything else by Django, with the same
bytes and the same refusals. Django's own answers are in test_device_api.py and
tests/system/test_bundle_content.py."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from django.core.signals import request_started
from django.test import Client, override_settings

from ledgerdrop.accounts.models import AuditEntry
from ledgerdrop.core import storage
from ledgerdrop.delivery import services
from ledgerdrop.delivery.bundles import PIECE_BYTES
from ledgerdrop.delivery.models import Delivery, Device
from ledgerdrop.delivery.tests.test_long_poll import served
from ledgerdrop_agent.client import read_bundle
from ledgerdrop_protocol import routes
from ledgerdrop_protocol.models import BUNDLE_MEDIA_TYPE, MAX_BUNDLE_IDS
from tests import builders
from tests.object_storage import Bucket

# The gate's threads use database connections of their own.
pytestmark = pytest.mark.django_db(transaction=True)

PROTECTIVE_HEADERS = (
    "x-content-type-options",
    "x-frame-options",
    "referrer-policy",
    "cross-origin-opener-policy",
)


def device_with_token(name: str) -> tuple[Device, str]:
    credential = services.register_device(builders.firm(), name=name)
    return credential.device, credential.token


def queued(device: Device, number: int, size: int = 0) -> Delivery:
    data = f"<Invoice><ID>2026-{number:04d}</ID>".encode() + random.randbytes(size) + b"</Invoice>"
    return services.queue_delivery(
        device, relative_path=f"DUPONT/ventes/F{number}.xml", blob=storage.put(data)
    )


def post(token: str, body: bytes, path: str = routes.CONTENTS.url()) -> httpx.Response:
    """The request as a downloader sends it, to the application uvicorn serves."""

    async def ask(client: httpx.AsyncClient) -> httpx.Response:
        return await client.post(
            path,
            content=body,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )

    return served(ask)


def asking(ids: list[int]) -> bytes:
    return json.dumps({"ids": ids}).encode()


@pytest.fixture
def django_requests() -> Iterator[list[Any]]:
    """The requests that reached Django's handler meanwhile."""
    started: list[Any] = []

    def note(sender: object, **kwargs: Any) -> None:
        started.append(kwargs.get("scope", sender))

    request_started.connect(note)
    yield started
    request_started.disconnect(note)


def test_the_gate_serves_a_bundle_with_the_exact_bytes_of_each_delivery_without_django(
    django_requests: list[Any],
) -> None:
    device, token = device_with_token("PC Kevin")
    # Small files gathered into one piece, and one spread over several.
    deliveries = [queued(device, n, size=n * 700) for n in range(1, 8)]
    deliveries.append(queued(device, 99, size=PIECE_BYTES * 2 + 12_345))

    answer = post(token, asking([d.pk for d in deliveries]))

    assert (answer.status_code, answer.headers["content-type"]) == (200, BUNDLE_MEDIA_TYPE)
    assert int(answer.headers["content-length"]) == len(answer.content)
    expected = {d.pk: d.size for d in deliveries}
    assert read_bundle(answer.content, expected) == {
        d.pk: storage.read(d.sha256) for d in deliveries
    }
    assert django_requests == []


def test_bundles_beyond_what_the_gate_answers_at_once_are_answered_by_django_alike(
    django_requests: list[Any],
) -> None:
    device, token = device_with_token("PC Kevin")
    deliveries = [queued(device, n, size=n * 3_000) for n in range(1, 6)]
    expected = {d.pk: d.size for d in deliveries}
    body = asking(list(expected))

    async def four_at_once(client: httpx.AsyncClient) -> list[httpx.Response]:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        asks = [client.post(routes.CONTENTS.url(), content=body, headers=headers) for _ in range(4)]
        return list(await asyncio.gather(*asks))

    with override_settings(LEDGERDROP_GATE_ANSWERS=1):
        answers = served(four_at_once)

    files = {d.pk: storage.read(d.sha256) for d in deliveries}
    assert [a.status_code for a in answers] == [200] * 4
    assert all(read_bundle(a.content, expected) == files for a in answers)
    assert 1 <= len(django_requests) <= 3  # the gate took one at least, Django the others


def test_a_bundle_is_the_same_bytes_from_the_gate_as_from_django() -> None:
    device, token = device_with_token("PC Kevin")
    ids = [queued(device, n, size=n * 5_000).pk for n in range(1, 6)]

    from_gate = post(token, asking(ids))
    from_django = Client().post(
        routes.CONTENTS.url(),
        {"ids": ids},
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )

    assert from_gate.status_code == from_django.status_code == 200
    assert from_gate.content == from_django.content


def test_the_gate_serves_a_bundle_from_the_bucket_with_the_exact_bytes(
    s3_bucket: Bucket, django_requests: list[Any]
) -> None:
    device, token = device_with_token("PC Kevin")
    deliveries = [queued(device, 1, size=900), queued(device, 2, size=PIECE_BYTES + 7)]

    answer = post(token, asking([d.pk for d in deliveries]))

    assert answer.status_code == 200
    assert read_bundle(answer.content, {d.pk: d.size for d in deliveries}) == {
        d.pk: storage.read(d.sha256) for d in deliveries
    }
    assert django_requests == []


def test_the_gate_leaves_out_the_deliveries_of_other_devices() -> None:
    mine, token = device_with_token("PC Kevin")
    theirs, _ = device_with_token("PC of another firm")
    own, foreign = queued(mine, 1), queued(theirs, 2)

    answer = post(token, asking([own.pk, foreign.pk, 999_999]))

    assert answer.status_code == 200
    assert set(read_bundle(answer.content, {own.pk: own.size, foreign.pk: foreign.size})) == {
        own.pk
    }


def test_a_bundle_asked_with_an_unknown_token_gets_401_problem_details() -> None:
    device, _ = device_with_token("PC Kevin")

    answer = post("ldd_not-a-token", asking([queued(device, 1).pk]))

    assert answer.status_code == 401
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == "unauthenticated"
    assert b"<Invoice>" not in answer.content


def test_a_bundle_asked_by_a_revoked_device_gets_401() -> None:
    device, token = device_with_token("PC Kevin")
    delivery = queued(device, 1)
    services.revoke_device(device, by=None)

    answer = post(token, asking([delivery.pk]))

    assert answer.status_code == 401
    assert answer.json()["code"] == "unauthenticated"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (asking([]), "ids"),
        (asking(list(range(1, MAX_BUNDLE_IDS + 2))), "ids"),
        (asking([2**63]), "ids.0"),
        (b'{"ids": ["one"]}', "ids.0"),
    ],
    ids=["none", "too many", "beyond any record", "not a number"],
)
def test_a_bundle_request_the_protocol_refuses_gets_problem_details_naming_the_field(
    body: bytes, field: str
) -> None:
    _, token = device_with_token("PC Kevin")

    answer = post(token, body)

    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["errors"][0]["field"] == field


def test_a_bundle_request_that_is_not_json_gets_problem_details() -> None:
    _, token = device_with_token("PC Kevin")

    answer = post(token, b"ids=1,2")

    assert answer.status_code in (400, 422)
    assert answer.headers["content-type"] == "application/problem+json"


def test_a_request_too_long_for_the_gate_is_answered_by_django_all_the_same(
    django_requests: list[Any],
) -> None:
    device, token = device_with_token("PC Kevin")
    delivery = queued(device, 1, size=3_000)
    # Valid JSON, padded beyond what the gate reads into memory.
    body = b'{"ids": [%d]' % delivery.pk + b" " * (600 * 1024) + b"}"

    answer = post(token, body)

    assert answer.status_code == 200
    assert read_bundle(answer.content, {delivery.pk: delivery.size}) == {
        delivery.pk: storage.read(delivery.sha256)
    }
    assert len(django_requests) == 1


def test_a_bundle_from_the_gate_carries_the_protective_headers_of_djangos_answers() -> None:
    device, token = device_with_token("PC Kevin")

    from_gate = post(token, asking([queued(device, 1).pk]))
    from_django = post("ldd_not-a-token", asking([1]))

    assert (from_gate.status_code, from_django.status_code) == (200, 401)
    for name in PROTECTIVE_HEADERS:
        assert from_gate.headers[name] == from_django.headers[name], name


def test_a_bundle_request_marks_the_device_as_seen() -> None:
    device, token = device_with_token("PC Kevin")
    delivery = queued(device, 1)
    assert Device.objects.get(pk=device.pk).last_seen_at is None

    post(token, asking([delivery.pk]))

    assert Device.objects.get(pk=device.pk).last_seen_at is not None


def acks(token: str, deliveries: list[Delivery], sha256: str | None = None) -> httpx.Response:
    body = {
        "acks": [
            {"id": d.pk, "sha256": sha256 or d.sha256, "placed_path": d.relative_path}
            for d in deliveries
        ]
    }
    return post(token, json.dumps(body).encode(), routes.ACKS.url())


def test_the_gate_acknowledges_a_batch_once_and_again_without_change_without_django(
    django_requests: list[Any],
) -> None:
    device, token = device_with_token("PC Kevin")
    deliveries = [queued(device, n) for n in range(1, 4)]

    first, again = acks(token, deliveries), acks(token, deliveries)

    assert (first.status_code, again.status_code) == (200, 200)
    assert first.json() == again.json() == {"acknowledged": sorted(d.pk for d in deliveries)}
    assert {d.state for d in Delivery.objects.filter(device=device)} == {"delivered"}
    assert AuditEntry.objects.filter(action="delivery.delivered").count() == 1
    assert django_requests == []


def test_acks_the_service_refuses_get_its_problem_details_and_change_nothing() -> None:
    device, token = device_with_token("PC Kevin")
    delivery = queued(device, 1)
    _, other_token = device_with_token("PC of another firm")

    mismatch = acks(token, [delivery], sha256="0" * 64)
    foreign = acks(other_token, [delivery])

    assert (mismatch.status_code, foreign.status_code) == (422, 404)
    assert mismatch.json()["code"] == "checksum_mismatch"
    assert foreign.json()["code"] == "unknown_delivery"
    assert mismatch.headers["content-type"] == foreign.headers["content-type"]
    assert mismatch.headers["content-type"] == "application/problem+json"
    assert Delivery.objects.get(pk=delivery.pk).state == "queued"


def test_acks_with_an_unknown_token_get_401_and_change_nothing() -> None:
    device, _ = device_with_token("PC Kevin")
    delivery = queued(device, 1)

    answer = acks("ldd_not-a-token", [delivery])

    assert answer.status_code == 401
    assert answer.json()["code"] == "unauthenticated"
    assert Delivery.objects.get(pk=delivery.pk).state == "queued"


def test_a_malformed_ack_through_the_gate_gets_problem_details_naming_the_field() -> None:
    _, token = device_with_token("PC Kevin")

    answer = post(token, b'{"acks": [{"id": 1}]}', routes.ACKS.url())

    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    assert {error["field"] for error in answer.json()["errors"]} >= {"acks.0.sha256"}
