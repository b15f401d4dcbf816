from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client
from pytest_django import Settings as SettingsWrapper

from ledgerdrop.accounts.models import AuditEntry, Membership, Organisation, User
from tests import builders

pytestmark = pytest.mark.django_db

STRONG = "Bob-Demat-2026!"


def test_an_accountant_signs_up_a_free_firm_and_lands_on_its_dossiers(client: Client) -> None:
    response = client.post(
        "/signup/firm/",
        {"name": "Fiduciaire Kevin", "email": "Kevin@Fiduciaire.be", "password": STRONG},
    )

    firm = Organisation.objects.get(name="Fiduciaire Kevin")
    assert firm.kind == Organisation.Kind.FIRM
    assert response.status_code == 302
    assert response["Location"] == f"/firms/{firm.pk}/dossiers/"
    user = User.objects.get(email="kevin@fiduciaire.be")
    assert Membership.objects.get(user=user, organisation=firm).role == Membership.Role.OWNER
    assert client.get(response["Location"]).status_code == 200


def test_a_company_signs_up_with_its_vat_number_in_any_usual_spelling(client: Client) -> None:
    response = client.post(
        "/signup/company/",
        {
            "name": "Boulangerie Dupont",
            "email": "anne@dupont.be",
            "password": STRONG,
            "vat_number": "be 0403.019.261",
        },
    )

    company = Organisation.objects.get(name="Boulangerie Dupont")
    assert response.status_code == 302
    assert company.kind == Organisation.Kind.COMPANY
    assert company.vat_number == "BE0403019261"


def test_a_wrong_vat_number_is_refused_with_a_message_in_french(client: Client) -> None:
    response = client.post(
        "/signup/company/",
        {"name": "Dupont", "email": "anne@dupont.be", "password": STRONG, "vat_number": "BE123"},
        HTTP_ACCEPT_LANGUAGE="fr",
    )

    assert response.status_code == 200
    assert "pas un numéro de TVA belge valide" in response.content.decode()
    assert not User.objects.filter(email="anne@dupont.be").exists()


def test_a_weak_password_is_refused_by_the_password_rules(client: Client) -> None:
    response = client.post(
        "/signup/firm/", {"name": "Fidu", "email": "kevin@fidu.be", "password": "12345678"}
    )

    assert response.status_code == 200
    assert not User.objects.filter(email="kevin@fidu.be").exists()


def test_an_e_mail_address_signs_up_only_once(client: Client) -> None:
    builders.user("kevin@fidu.be")

    response = client.post(
        "/signup/firm/", {"name": "Fidu", "email": "KEVIN@fidu.be", "password": STRONG}
    )

    assert response.status_code == 200
    assert Organisation.objects.filter(kind="firm").count() == 0


def test_signup_through_the_api_answers_the_user_and_the_organisation(client: Client) -> None:
    response = client.post(
        "/api/v1/signup",
        {"kind": "company", "email": "anne@dupont.be", "password": STRONG, "name": "Dupont SRL",
         "vat_number": "BE0403019261"},
        content_type="application/json",
    )  # fmt: skip

    assert response.status_code == 201
    body = response.json()
    company = Organisation.objects.get(name="Dupont SRL")
    assert body == {
        "user": {"id": User.objects.get(email="anne@dupont.be").pk, "email": "anne@dupont.be"},
        "organisation": {"id": company.pk, "kind": "company", "name": "Dupont SRL"},
    }
    assert AuditEntry.objects.filter(organisation=company, action="organisation.created").exists()


def test_api_signup_errors_are_problem_details_per_field(client: Client) -> None:
    response = client.post(
        "/api/v1/signup",
        {"kind": "company", "email": "not-an-email", "password": "x", "name": "Dupont",
         "vat_number": "BE0000000001"},
        content_type="application/json",
    )  # fmt: skip

    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    fields = {error["field"] for error in response.json()["errors"]}
    assert fields == {"email", "password", "vat_number"}


def test_a_person_can_belong_to_a_firm_and_a_company_and_switch_between_them(
    client: Client,
) -> None:
    person = builders.user("kevin@fidu.be")
    firm = builders.firm("Fiduciaire Kevin", owner=person)
    client.force_login(person)

    response = client.post(
        "/organisations/new/",
        {"kind": "company", "name": "Kevin Consulting", "vat_number": "BE0403019261"},
    )

    company = Organisation.objects.get(name="Kevin Consulting")
    assert response["Location"] == f"/companies/{company.pk}/"
    page = client.get(f"/firms/{firm.pk}/dossiers/").content.decode()
    assert "Kevin Consulting" in page
    assert f'href="/companies/{company.pk}/"' in page


def test_a_forgotten_password_is_reset_through_the_link_in_the_e_mail(client: Client) -> None:
    builders.user("anne@dupont.be")

    response = client.post("/accounts/password-reset/", {"email": "anne@dupont.be"})

    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = next(line for line in mail.outbox[0].body.splitlines() if "/accounts/reset/" in line)
    path = link.split("://", 1)[1].split("/", 1)[1]
    form_page = client.get("/" + path, follow=True)
    new_password = "Nouveau-Mot-2026!"
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": new_password, "new_password2": new_password},
    )
    assert done.status_code == 302
    assert User.objects.get(email="anne@dupont.be").check_password(new_password)


def test_the_reset_link_uses_the_public_address_when_one_is_configured(
    client: Client, settings: SettingsWrapper
) -> None:
    settings.PUBLIC_URL = "https://ledgerdrop.fiduciaire.be"
    builders.user("anne@dupont.be")

    client.post("/accounts/password-reset/", {"email": "anne@dupont.be"})

    assert "https://ledgerdrop.fiduciaire.be/accounts/reset/" in mail.outbox[0].body
