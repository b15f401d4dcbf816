"""An e-mail address is the same address in any case: sign-in, sign-up, tokens and linking."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from ledgerdrop.accounts import services
from ledgerdrop.accounts.models import Dossier, ExternalUser, Organisation, User
from tests import builders

pytestmark = pytest.mark.django_db


def test_signing_in_with_capitals_in_the_address_works(client: Client) -> None:
    builders.user("kevin@fidu-namur.be")

    response = client.post(
        "/accounts/login/", {"username": "Kevin@Fidu-Namur.be ", "password": builders.PASSWORD}
    )

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(User.objects.get().pk)


def test_a_token_is_given_for_the_address_in_any_case(client: Client) -> None:
    builders.user("kevin@fidu-namur.be")

    response = client.post(
        "/api/v1/tokens",
        {"email": "KEVIN@Fidu-Namur.BE", "password": builders.PASSWORD},
        content_type="application/json",
    )

    assert response.status_code == 201


def test_signing_up_again_with_other_capitals_is_refused_as_the_same_address() -> None:
    services.sign_up(
        kind=Organisation.Kind.FIRM,
        email="Kevin@Fidu-Namur.be",
        password="Bob-Demat-2026!",
        name="Fidu Namur",
    )

    with pytest.raises(ValidationError, match="existe déjà"):
        services.sign_up(
            kind=Organisation.Kind.FIRM,
            email="kevin@fidu-namur.BE",
            password="Bob-Demat-2026!",
            name="Fidu Namur bis",
        )


def test_linking_an_accountant_typed_with_capitals_finds_their_firm() -> None:
    firm = builders.firm("Fidu Namur", owner=builders.user("kevin@fidu-namur.be"))
    company = builders.company("Boulangerie Dupont")

    external = services.add_external_user(company, "Kevin@Fidu-Namur.be", by=None)

    assert external.email == "kevin@fidu-namur.be"
    assert Dossier.objects.filter(firm=firm, company=company).exists()


def test_an_invitation_links_the_firm_signed_up_with_other_capitals() -> None:
    company = builders.company("Boulangerie Dupont")
    services.add_external_user(company, "Sarah@Nouvelle-Fidu.be", by=None)

    _user, firm = services.sign_up(
        kind=Organisation.Kind.FIRM,
        email="SARAH@nouvelle-fidu.be",
        password="Bob-Demat-2026!",
        name="Nouvelle Fidu",
    )

    assert ExternalUser.objects.get(company=company).status == "linked"
    assert Dossier.objects.filter(firm=firm, company=company).exists()
