"""Sign-ups are limited per client address: nobody fills the server with accounts, or tries
e-mail addresses one after another to learn which have an account."""

from __future__ import annotations

import pytest
from django.test import Client
from pytest_django import Settings as SettingsWrapper

from ledgerdrop.accounts import services
from ledgerdrop.accounts.models import User

pytestmark = pytest.mark.django_db

STRONG = "Bob-Demat-2026!"
CROWDED_ADDRESS = "203.0.113.66"


@pytest.fixture(autouse=True)
def behind_one_proxy(settings: SettingsWrapper) -> None:
    settings.LEDGERDROP_TRUSTED_PROXIES = 1


def sign_up_page(number: int, address: str, language: str = "fr") -> str:
    response = Client().post(
        "/signup/firm/",
        {"name": f"Fiduciaire {number}", "email": f"kevin{number}@fidu.be", "password": STRONG},
        HTTP_X_FORWARDED_FOR=address,
        HTTP_ACCEPT_LANGUAGE=language,
    )
    return "" if response.status_code == 302 else response.content.decode()


def fill_up(address: str = CROWDED_ADDRESS) -> None:
    for number in range(services.MAX_SIGNUPS_PER_IP):
        assert sign_up_page(number, address) == ""


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("fr", "Trop d&#x27;inscriptions depuis votre adresse réseau. Réessayez dans 60 minutes."),
        ("nl", "Te veel registraties vanaf uw netwerkadres. Probeer het over 60 minuten opnieuw."),
        ("en", "Too many sign-ups from your network address. Try again in 60 minutes."),
    ],
)
def test_one_sign_up_too_many_from_an_address_is_refused_in_the_persons_language(
    language: str, message: str
) -> None:
    fill_up()

    page = sign_up_page(99, CROWDED_ADDRESS, language)

    assert message in page
    assert not User.objects.filter(email="kevin99@fidu.be").exists()


def test_other_addresses_still_sign_up() -> None:
    fill_up()

    assert sign_up_page(99, "198.51.100.7") == ""


def test_refused_sign_ups_count_too() -> None:
    # Every try with an address that already has an account is refused, and counted.
    for _ in range(services.MAX_SIGNUPS_PER_IP):
        Client().post(
            "/signup/firm/",
            {"name": "Fiduciaire", "email": "taken@fidu.be", "password": "short"},
            HTTP_X_FORWARDED_FOR=CROWDED_ADDRESS,
        )

    assert "Too many sign-ups" in sign_up_page(99, CROWDED_ADDRESS, "en")


def test_the_api_answers_429_with_retry_after() -> None:
    fill_up()

    response = Client().post(
        "/api/v1/signup",
        {"kind": "firm", "email": "kevin99@fidu.be", "password": STRONG, "name": "Fidu"},
        content_type="application/json",
        HTTP_X_FORWARDED_FOR=CROWDED_ADDRESS,
    )

    assert response.status_code == 429
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["type"] == "urn:ledgerdrop:problem:too_many_signups"
    assert 3500 < int(response["Retry-After"]) <= 3601
    assert not User.objects.filter(email="kevin99@fidu.be").exists()
