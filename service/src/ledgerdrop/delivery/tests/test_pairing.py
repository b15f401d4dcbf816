"""Pairing a downloader: RFC 8628 device codes, and one-time enrolment keys."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from ledgerdrop import testing
from ledgerdrop.delivery import services
from ledgerdrop.delivery.models import Device, DevicePairing

pytestmark = pytest.mark.django_db

FACTS = {"name": "PC Kevin", "hostname": "KEVIN-PC", "os": "Windows 11", "os_user": "kevin"}


def post(path: str, body: dict[str, Any]) -> Any:
    return Client().post(f"/api/device/v1{path}", body, content_type="application/json")


def test_a_code_approved_by_the_firm_gives_the_downloader_its_credential() -> None:
    firm = testing.firm()
    started = post("/pairings", FACTS).json()
    assert post("/token", {"device_code": started["device_code"]}).json()["error"] == (
        "authorization_pending"
    )

    device = services.approve_pairing(firm, started["user_code"].lower(), by=None)
    DevicePairing.objects.update(last_polled_at=None)
    granted = post("/token", {"device_code": started["device_code"]}).json()

    assert granted["device_id"] == device.pk
    assert services.authenticate_device(granted["token"]) == device
    assert (device.hostname, device.os_user, device.root_folder) == (
        "KEVIN-PC",
        "kevin",
        r"c:\bob-demat",
    )
    assert started["verification_uri_complete"].endswith(f"?code={started['user_code']}")


def test_polling_faster_than_the_interval_is_told_to_slow_down() -> None:
    started = post("/pairings", FACTS).json()

    post("/token", {"device_code": started["device_code"]})
    answer = post("/token", {"device_code": started["device_code"]})

    assert answer.status_code == 400
    assert answer.json()["error"] == "slow_down"
    assert DevicePairing.objects.get().interval == started["interval"] + 5


def test_a_device_code_gives_a_credential_only_once() -> None:
    firm = testing.firm()
    started = post("/pairings", FACTS).json()
    services.approve_pairing(firm, started["user_code"], by=None)

    post("/token", {"device_code": started["device_code"]})
    again = post("/token", {"device_code": started["device_code"]})

    assert again.json()["error"] == "invalid_grant"


def test_an_unknown_user_code_is_refused_with_a_way_forward() -> None:
    with pytest.raises(services.DeliveryError, match="Start the pairing again"):
        services.approve_pairing(testing.firm(), "BCDF-GHJK", by=None)


def test_an_enrolment_key_pairs_one_unattended_server_only() -> None:
    firm = testing.firm()
    _, key = services.mint_enrolment_key(firm, by=None)

    first = post("/token", {"enrolment_key": key, **FACTS, "name": "Shared server"})
    second = post("/token", {"enrolment_key": key, **FACTS, "name": "Intruder"})

    assert first.status_code == 200
    assert Device.objects.get().name == "Shared server"
    assert second.json()["error"] == "invalid_grant"
    assert Device.objects.count() == 1
