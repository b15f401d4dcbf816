"""Pairing a downloader: RFC 8628 device codes, and one-time enrolment keys."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from ledgerdrop.accounts.models import Membership
from ledgerdrop.core.errors import Kind, ServiceError
from ledgerdrop.delivery import services
from ledgerdrop.delivery.models import CodeGuess, Device, DevicePairing
from ledgerdrop_protocol import routes
from tests import builders

pytestmark = pytest.mark.django_db

FACTS = {"name": "PC Kevin", "hostname": "KEVIN-PC", "os": "Windows 11", "os_user": "kevin"}


def post(route: routes.Route, body: dict[str, Any]) -> Any:
    return Client().post(route.url(), body, content_type="application/json")


def test_a_code_approved_by_the_firm_gives_the_downloader_its_credential() -> None:
    firm = builders.firm()
    started = post(routes.PAIRINGS, FACTS).json()
    assert post(routes.TOKEN, {"device_code": started["device_code"]}).json()["error"] == (
        "authorization_pending"
    )

    device = services.approve_pairing(firm, started["user_code"].lower(), by=None)
    DevicePairing.objects.update(last_polled_at=None)
    granted = post(routes.TOKEN, {"device_code": started["device_code"]}).json()

    assert granted["device_id"] == device.pk
    assert services.authenticate_device(granted["token"]) == device
    assert (device.hostname, device.os_user, device.root_folder) == (
        "KEVIN-PC",
        "kevin",
        r"c:\bob-demat",
    )
    assert started["verification_uri_complete"].endswith(f"?code={started['user_code']}")


def test_polling_faster_than_the_interval_is_told_to_slow_down() -> None:
    started = post(routes.PAIRINGS, FACTS).json()

    post(routes.TOKEN, {"device_code": started["device_code"]})
    answer = post(routes.TOKEN, {"device_code": started["device_code"]})

    assert answer.status_code == 400
    assert answer.json()["error"] == "slow_down"
    assert DevicePairing.objects.get().interval == started["interval"] + 5


def test_a_device_code_gives_a_credential_only_once() -> None:
    firm = builders.firm()
    started = post(routes.PAIRINGS, FACTS).json()
    services.approve_pairing(firm, started["user_code"], by=None)

    post(routes.TOKEN, {"device_code": started["device_code"]})
    again = post(routes.TOKEN, {"device_code": started["device_code"]})

    assert again.json()["error"] == "invalid_grant"


def test_an_unknown_user_code_is_refused_with_a_way_forward() -> None:
    with pytest.raises(ServiceError, match="Relancez le jumelage"):
        services.approve_pairing(builders.firm(), "BCDF-GHJK", by=None)


def test_an_enrolment_key_pairs_one_unattended_server_only() -> None:
    firm = builders.firm()
    _, key = services.mint_enrolment_key(firm, by=None)

    first = post(routes.TOKEN, {"enrolment_key": key, **FACTS, "name": "Shared server"})
    second = post(routes.TOKEN, {"enrolment_key": key, **FACTS, "name": "Intruder"})

    assert first.status_code == 200
    assert Device.objects.get().name == "Shared server"
    assert second.json()["error"] == "invalid_grant"
    assert Device.objects.count() == 1


def test_a_denied_code_tells_the_downloader_access_denied_and_makes_no_device() -> None:
    firm = builders.firm()
    started = post(routes.PAIRINGS, FACTS).json()

    services.deny_pairing(firm, started["user_code"], by=None)

    answer = post(routes.TOKEN, {"device_code": started["device_code"]})
    assert answer.json()["error"] == "access_denied"
    assert not Device.objects.exists()


def test_a_user_code_is_used_once() -> None:
    firm = builders.firm()
    started = post(routes.PAIRINGS, FACTS).json()
    services.approve_pairing(firm, started["user_code"], by=None)

    with pytest.raises(ServiceError) as refused:
        services.approve_pairing(builders.firm(), started["user_code"], by=None)

    assert refused.value.code == "unknown_user_code"
    assert Device.objects.count() == 1


def test_an_expired_user_code_is_refused() -> None:
    started = post(routes.PAIRINGS, FACTS).json()
    DevicePairing.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))

    with pytest.raises(ServiceError) as refused:
        services.approve_pairing(builders.firm(), started["user_code"], by=None)

    assert refused.value.code == "unknown_user_code"


def test_after_too_many_wrong_codes_a_user_is_stopped_even_with_the_right_code() -> None:
    firm_user = builders.user()
    firm = builders.firm(owner=firm_user)
    started = post(routes.PAIRINGS, FACTS).json()
    for _ in range(services.MAX_WRONG_GUESSES_PER_USER):
        with pytest.raises(ServiceError):
            services.check_user_code(firm, "BCDF-GHJK", by=firm_user)

    with pytest.raises(ServiceError) as refused:
        services.approve_pairing(firm, started["user_code"], by=firm_user)

    assert (refused.value.code, refused.value.kind) == ("too_many_attempts", Kind.TOO_MANY)
    assert "Attendez 15 minutes" in refused.value.message
    assert not Device.objects.exists()


def test_wrong_codes_of_many_users_of_one_firm_add_up() -> None:
    firm = builders.firm()
    for n in range(services.MAX_WRONG_GUESSES_PER_FIRM):
        colleague = builders.user()
        Membership.objects.create(user=colleague, organisation=firm, role=Membership.Role.MEMBER)
        with pytest.raises(ServiceError):
            services.check_user_code(firm, f"BCDF-GH{'JKLMNPQRST'[n % 10]}X", by=colleague)

    started = post(routes.PAIRINGS, FACTS).json()
    with pytest.raises(ServiceError) as refused:
        services.check_user_code(firm, started["user_code"], by=builders.user())

    assert refused.value.code == "too_many_attempts"


def test_wrong_codes_are_forgotten_after_a_quarter_of_an_hour() -> None:
    firm_user = builders.user()
    firm = builders.firm(owner=firm_user)
    for _ in range(services.MAX_WRONG_GUESSES_PER_USER):
        with pytest.raises(ServiceError):
            services.check_user_code(firm, "BCDF-GHJK", by=firm_user)
    CodeGuess.objects.update(at=timezone.now() - services.GUESS_WINDOW)
    started = post(routes.PAIRINGS, FACTS).json()

    pairing = services.check_user_code(firm, started["user_code"], by=firm_user)

    assert pairing.hostname == "KEVIN-PC"
