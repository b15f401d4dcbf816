"""Sign-in limits stop guessing without letting anybody lock somebody else out: they count per
account and client address; a browser that signed in before (a known device) and a person who
reset the password by e-mail get through with the right password."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.core import mail
from django.test import Client
from pytest_django import Settings as SettingsWrapper

from ledgerdrop.accounts import services
from ledgerdrop.accounts.http import KNOWN_DEVICE_COOKIE
from tests import builders

pytestmark = pytest.mark.django_db

OWNER = "kevin@fidu.be"
OWNER_ADDRESS = "198.51.100.7"
ATTACKER_ADDRESS = "203.0.113.66"


@pytest.fixture(autouse=True)
def behind_one_proxy(settings: SettingsWrapper) -> None:
    # Each test client stands for a person at the address it sends in X-Forwarded-For.
    settings.LEDGERDROP_TRUSTED_PROXIES = 1


def sign_in(client: Client, password: str, address: str, email: str = OWNER) -> bool:
    """Whether the sign-in page let the person in."""
    response = client.post(
        "/accounts/login/",
        {"username": email, "password": password},
        HTTP_X_FORWARDED_FOR=address,
    )
    return response.status_code == 302


def guess(times: int, address: str = ATTACKER_ADDRESS) -> None:
    attacker = Client()
    for attempt in range(times):
        assert not sign_in(attacker, f"guess-{attempt}", address)


def test_a_strangers_wrong_passwords_lock_only_the_stranger_out() -> None:
    builders.user(OWNER)

    guess(services.MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS)

    assert not sign_in(Client(), builders.PASSWORD, ATTACKER_ADDRESS)
    assert sign_in(Client(), builders.PASSWORD, OWNER_ADDRESS)


def test_the_locked_out_address_is_told_what_to_do() -> None:
    builders.user(OWNER)
    guess(services.MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS)

    page = Client().post(
        "/accounts/login/",
        {"username": OWNER, "password": builders.PASSWORD},
        HTTP_X_FORWARDED_FOR=ATTACKER_ADDRESS,
        HTTP_ACCEPT_LANGUAGE="fr",
    )

    assert "réinitialisez votre mot de passe" in page.content.decode()


def test_a_known_device_signs_in_while_the_account_is_guessed_at_from_everywhere() -> None:
    builders.user(OWNER)
    owners_browser = Client()
    assert sign_in(owners_browser, builders.PASSWORD, OWNER_ADDRESS)
    owners_browser.post("/accounts/logout/")
    # Guessing spread over many addresses: each stays under its own limit.
    for attempt in range(services.MAX_FAILURES_PER_ACCOUNT):
        services.record_login_failure(OWNER, f"192.0.2.{attempt % 250}")

    assert not sign_in(Client(), builders.PASSWORD, OWNER_ADDRESS)
    assert sign_in(owners_browser, builders.PASSWORD, "192.0.2.1")


def test_a_known_devices_own_wrong_passwords_still_stop_it() -> None:
    builders.user(OWNER)
    owners_browser = Client()
    assert sign_in(owners_browser, builders.PASSWORD, OWNER_ADDRESS)
    owners_browser.post("/accounts/logout/")

    for attempt in range(services.MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS):
        assert not sign_in(owners_browser, f"typo-{attempt}", OWNER_ADDRESS)

    assert not sign_in(owners_browser, builders.PASSWORD, OWNER_ADDRESS)


def test_a_forged_known_device_cookie_counts_for_nothing() -> None:
    user = builders.user(OWNER)
    guess(services.MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS)
    attacker = Client()
    attacker.cookies[KNOWN_DEVICE_COOKIE] = f'{{"id": "x", "users": [{user.pk}]}}'

    assert not sign_in(attacker, builders.PASSWORD, ATTACKER_ADDRESS)


def test_a_known_device_of_another_account_is_a_stranger_to_this_one() -> None:
    builders.user(OWNER)
    builders.user("anne@dupont.be")
    annes_browser = Client()
    assert sign_in(annes_browser, builders.PASSWORD, ATTACKER_ADDRESS, email="anne@dupont.be")
    annes_browser.post("/accounts/logout/")
    guess(services.MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS)

    assert not sign_in(annes_browser, builders.PASSWORD, ATTACKER_ADDRESS)


def reset_password(client: Client, address: str, new_password: str) -> None:
    client.post("/accounts/password-reset/", {"email": OWNER}, HTTP_X_FORWARDED_FOR=address)
    link = next(line for line in mail.outbox[-1].body.splitlines() if "/accounts/reset/" in line)
    form_page = client.get("/" + link.split("://", 1)[1].split("/", 1)[1], follow=True)
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": new_password, "new_password2": new_password},
        HTTP_X_FORWARDED_FOR=address,
    )
    assert done.status_code == 302


def test_after_a_password_reset_by_e_mail_the_new_password_gets_in_from_anywhere() -> None:
    builders.user(OWNER)
    # Under attack from the owner's own network (a shared office address) and from everywhere.
    guess(services.MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS, address=OWNER_ADDRESS)
    for attempt in range(services.MAX_FAILURES_PER_ACCOUNT):
        services.record_login_failure(OWNER, f"192.0.2.{attempt % 250}")
    assert not sign_in(Client(), builders.PASSWORD, OWNER_ADDRESS)

    reset_password(Client(), OWNER_ADDRESS, "Nouveau-Mot-2026!")

    assert sign_in(Client(), "Nouveau-Mot-2026!", OWNER_ADDRESS)


def test_the_browser_that_reset_the_password_is_a_known_device() -> None:
    builders.user(OWNER)
    owners_browser = Client()
    reset_password(owners_browser, OWNER_ADDRESS, "Nouveau-Mot-2026!")
    # The guessing goes on after the reset.
    guess(services.MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS, address=OWNER_ADDRESS)

    assert not sign_in(Client(), "Nouveau-Mot-2026!", OWNER_ADDRESS)
    assert sign_in(owners_browser, "Nouveau-Mot-2026!", OWNER_ADDRESS)


def ask_token(client: Client, email: str, password: str, address: str) -> Any:
    return client.post(
        "/api/v1/tokens",
        {"email": email, "password": password},
        content_type="application/json",
        HTTP_X_FORWARDED_FOR=address,
    )


def test_the_token_api_locks_an_account_per_address_too() -> None:
    builders.user(OWNER)
    for attempt in range(services.MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS):
        assert ask_token(Client(), OWNER, f"guess-{attempt}", ATTACKER_ADDRESS).status_code == 401

    refused = ask_token(Client(), OWNER, builders.PASSWORD, ATTACKER_ADDRESS)
    granted = ask_token(Client(), OWNER, builders.PASSWORD, OWNER_ADDRESS)

    assert refused.status_code == 429
    assert refused["Content-Type"] == "application/problem+json"
    assert int(refused["Retry-After"]) > 0
    assert granted.status_code == 201


class CountingHasher(PBKDF2PasswordHasher):
    """Django's default hasher (fewer rounds), counting how often it hashes a password."""

    iterations = 1000
    hashed: ClassVar[list[str]] = []

    def encode(self, password: str, salt: str, iterations: int | None = None) -> str:
        CountingHasher.hashed.append(password)
        return super().encode(password, salt, iterations)


def test_an_unknown_e_mail_costs_the_same_password_hashing_as_a_wrong_password(
    settings: SettingsWrapper,
) -> None:
    settings.PASSWORD_HASHERS = [f"{__name__}.CountingHasher"]
    builders.user(OWNER)
    CountingHasher.hashed.clear()

    wrong_password = ask_token(Client(), OWNER, "wrong-password", OWNER_ADDRESS)
    hashed_for_wrong_password = list(CountingHasher.hashed)
    CountingHasher.hashed.clear()
    unknown_email = ask_token(Client(), "nobody@fidu.be", "wrong-password", OWNER_ADDRESS)

    assert wrong_password.status_code == unknown_email.status_code == 401
    assert wrong_password.json() == unknown_email.json()
    assert hashed_for_wrong_password == ["wrong-password"]
    assert CountingHasher.hashed == ["wrong-password"]


def test_the_browser_that_signed_up_is_a_known_device() -> None:
    browser = Client()
    browser.post(
        "/signup/firm/",
        {"name": "Fiduciaire Kevin", "email": OWNER, "password": "Bob-Demat-2026!"},
        HTTP_X_FORWARDED_FOR=OWNER_ADDRESS,
    )
    browser.post("/accounts/logout/")
    guess(services.MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS, address=OWNER_ADDRESS)

    assert sign_in(browser, "Bob-Demat-2026!", OWNER_ADDRESS)
