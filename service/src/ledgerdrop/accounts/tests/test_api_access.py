from __future__ import annotations

import hashlib

import pytest
from django.test import Client
from pytest_django import Settings as SettingsWrapper

from ledgerdrop.accounts import services
from ledgerdrop.accounts.models import ApiToken, LoginFailure
from tests import builders

pytestmark = pytest.mark.django_db


def get_token(client: Client, email: str, password: str = builders.PASSWORD) -> str:
    response = client.post(
        "/api/v1/tokens", {"email": email, "password": password}, content_type="application/json"
    )
    assert response.status_code == 201, response.content
    token: str = response.json()["token"]
    return token


def test_a_token_opens_the_api_and_is_stored_only_as_a_hash(client: Client) -> None:
    person = builders.user("kevin@fidu.be")
    firm = builders.firm("Fiduciaire Kevin", owner=person)

    token = get_token(client, "kevin@fidu.be")
    me = Client().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {token}")

    assert me.status_code == 200
    assert me.json()["email"] == "kevin@fidu.be"
    assert me.json()["organisations"] == [
        {"id": firm.pk, "kind": "firm", "name": firm.name, "role": "owner"}
    ]
    stored = ApiToken.objects.get(user=person)
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in {stored.token_hash, stored.prefix}


def test_a_revoked_token_is_refused_on_its_next_request(client: Client) -> None:
    person = builders.user("kevin@fidu.be")
    token = get_token(client, "kevin@fidu.be")
    client.force_login(person)

    client.post(f"/accounts/tokens/{ApiToken.objects.get().pk}/revoke/")
    response = Client().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {token}")

    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"


def test_the_settings_page_shows_a_new_token_once(client: Client) -> None:
    client.force_login(builders.user("kevin@fidu.be"))

    created = client.post("/accounts/settings/", {"label": "export script"}).content.decode()
    again = client.get("/accounts/settings/").content.decode()

    token = created.split('id="new-token">', 1)[1].split("<", 1)[0]
    assert token.startswith("ldp_")
    assert "export script" in again
    assert token not in again


def test_a_wrong_password_gets_no_token(client: Client) -> None:
    builders.user("kevin@fidu.be")

    response = client.post(
        "/api/v1/tokens",
        {"email": "kevin@fidu.be", "password": "wrong"},
        content_type="application/json",
    )

    assert response.status_code == 401
    assert not ApiToken.objects.exists()


def test_sign_in_attempts_from_one_address_are_limited_even_with_the_right_password(
    client: Client,
) -> None:
    builders.user("kevin@fidu.be")
    for _ in range(services.MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS):
        client.post("/accounts/login/", {"username": "kevin@fidu.be", "password": "guess"})

    page = client.post(
        "/accounts/login/", {"username": "kevin@fidu.be", "password": builders.PASSWORD}
    )
    api = client.post(
        "/api/v1/tokens",
        {"email": "kevin@fidu.be", "password": builders.PASSWORD},
        content_type="application/json",
    )

    assert page.status_code == 200  # the sign-in page again, not a redirect into the app
    assert "_auth_user_id" not in client.session
    assert api.status_code == 429
    assert LoginFailure.objects.count() == services.MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS


def test_a_successful_sign_in_clears_earlier_failures(client: Client) -> None:
    builders.user("kevin@fidu.be")
    client.post("/accounts/login/", {"username": "kevin@fidu.be", "password": "guess"})

    response = client.post(
        "/accounts/login/", {"username": "kevin@fidu.be", "password": builders.PASSWORD}
    )

    assert response.status_code == 302
    assert not LoginFailure.objects.exists()


def test_the_browser_session_needs_the_csrf_token_to_change_anything() -> None:
    person = builders.user("anne@dupont.be")
    company = builders.company(owner=person)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(person)
    url = f"/api/v1/companies/{company.pk}/external-users"

    reading = browser.get(url)
    forged = browser.post(url, {"email": "x@fidu.be"}, content_type="application/json")

    assert reading.status_code == 200
    assert forged.status_code == 403
    assert not company.external_users.exists()


def test_a_form_without_csrf_token_is_refused() -> None:
    person = builders.user("anne@dupont.be")
    company = builders.company(owner=person)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(person)

    response = browser.post(f"/companies/{company.pk}/settings/users/", {"email": "x@fidu.be"})

    assert response.status_code == 403
    assert not company.external_users.exists()


def test_without_credentials_the_api_answers_401_as_a_problem(client: Client) -> None:
    response = client.post(
        "/api/v1/companies/1/external-users", {"email": "x@y.be"}, content_type="application/json"
    )

    assert response.status_code == 401
    assert response.json()["status"] == 401


def test_the_openapi_document_lists_the_accounts_operations(client: Client) -> None:
    paths = client.get("/api/v1/openapi.json").json()["paths"]

    assert {
        "/api/v1/signup",
        "/api/v1/tokens",
        "/api/v1/me",
        "/api/v1/companies/{cid}/external-users",
        "/api/v1/companies/{cid}/external-users/{external_user_id}",
        "/api/v1/firms/{fid}/dossiers",
        "/api/v1/firms/{fid}/apps",
        "/api/v1/firms/{fid}/apps/{slug}",
    } <= set(paths)


def test_many_failures_from_one_address_stop_sign_ins_to_every_account(client: Client) -> None:
    builders.user("kevin@fidu.be")
    for attempt in range(services.MAX_FAILURES_PER_IP):
        client.post("/accounts/login/", {"username": f"guess{attempt}@fidu.be", "password": "x"})

    response = client.post(
        "/accounts/login/", {"username": "kevin@fidu.be", "password": builders.PASSWORD}
    )

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_behind_a_proxy_each_person_is_counted_by_their_own_address(
    client: Client, settings: SettingsWrapper
) -> None:
    settings.LEDGERDROP_TRUSTED_PROXIES = 1
    builders.user("kevin@fidu.be")
    for attempt in range(services.MAX_FAILURES_PER_IP):
        client.post(
            "/accounts/login/",
            {"username": f"guess{attempt}@fidu.be", "password": "x"},
            HTTP_X_FORWARDED_FOR="203.0.113.66",
        )

    response = client.post(
        "/accounts/login/",
        {"username": "kevin@fidu.be", "password": builders.PASSWORD},
        HTTP_X_FORWARDED_FOR="198.51.100.7",
    )

    assert response.status_code == 302
