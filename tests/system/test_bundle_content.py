"""`POST deliveries/contents`: many small files in one answer, and never another device's."""

from __future__ import annotations

import pytest
from django.test import Client

from ledgerdrop.core import storage
from ledgerdrop.delivery import services
from ledgerdrop.delivery.models import Delivery, Device
from ledgerdrop_agent.client import read_bundle
from ledgerdrop_protocol import routes
from ledgerdrop_protocol.models import BUNDLE_MEDIA_TYPE
from tests import builders

pytestmark = pytest.mark.django_db


def device_with_token(name: str) -> tuple[Device, str]:
    credential = services.register_device(builders.firm(), name=name)
    return credential.device, credential.token


def queued(device: Device, number: int) -> Delivery:
    data = f"<Invoice><ID>2026-{number:04d}</ID>{'<Note/>' * number}</Invoice>".encode()
    return services.queue_delivery(
        device, relative_path=f"DUPONT/ventes/F{number}.xml", blob=storage.put(data)
    )


def contents(token: str, ids: list[int]) -> tuple[int, str, bytes]:
    response = Client().post(
        routes.CONTENTS.url(),
        {"ids": ids},
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    return response.status_code, response.headers.get("Content-Type", ""), response.content


def test_a_bundle_carries_the_bytes_of_every_asked_delivery() -> None:
    device, token = device_with_token("PC Kevin")
    deliveries = [queued(device, n) for n in range(1, 6)]

    status, media_type, body = contents(token, [d.pk for d in deliveries])

    assert (status, media_type) == (200, BUNDLE_MEDIA_TYPE)
    expected = {d.pk: d.size for d in deliveries}
    assert read_bundle(body, expected) == {d.pk: storage.read(d.sha256) for d in deliveries}


def test_a_bundle_leaves_out_the_deliveries_of_other_devices() -> None:
    mine, token = device_with_token("PC Kevin")
    theirs, _ = device_with_token("PC of another firm")
    own, foreign = queued(mine, 1), queued(theirs, 2)

    status, _, body = contents(token, [own.pk, foreign.pk, 999_999])

    assert status == 200
    assert set(read_bundle(body, {own.pk: own.size, foreign.pk: foreign.size})) == {own.pk}


def test_a_bundle_needs_the_device_credential() -> None:
    device, _ = device_with_token("PC Kevin")

    status, _, _ = contents("ldd_not-a-token", [queued(device, 1).pk])

    assert status == 401
