from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django_tasks_db.models import DBTaskResult

from ledgerdrop.accounts import services
from ledgerdrop.accounts.models import AuditEntry, Dossier, ExternalUser, Organisation
from tests import builders

pytestmark = pytest.mark.django_db

CaptureOnCommit = Callable[..., AbstractContextManager[list[Callable[[], Any]]]]


@pytest.fixture
def company_client(client: Client) -> tuple[Client, Organisation]:
    owner = builders.user("anne@dupont.be")
    company = builders.company("Boulangerie Dupont", owner=owner)
    client.force_login(owner)
    return client, company


def run_queued_invitations(callbacks: list[Callable[[], Any]]) -> None:
    """What the worker does with the tasks queued on commit, in this process."""
    for callback in callbacks:
        callback()
    for queued in DBTaskResult.objects.ready():
        queued.task.call(*queued.args_kwargs["args"], **queued.args_kwargs["kwargs"])


def test_adding_a_firm_users_e_mail_makes_the_company_a_dossier_at_once(
    company_client: tuple[Client, Organisation],
) -> None:
    client, company = company_client
    firm = builders.firm("Fiduciaire Kevin", owner=builders.user("kevin@fidu.be"))

    response = client.post(
        f"/companies/{company.pk}/settings/users/", {"email": "Kevin@Fidu.be"}, follow=True
    )

    dossier = Dossier.objects.get(firm=firm, company=company)
    assert ExternalUser.objects.get(company=company).dossier == dossier
    assert "Fiduciaire Kevin" in response.content.decode()
    assert set(AuditEntry.objects.filter(action="dossier.linked").values_list(
        "organisation_id", flat=True)) == {company.pk, firm.pk}  # fmt: skip


def test_an_unknown_e_mail_gets_an_invitation_that_links_when_a_firm_signs_up(
    company_client: tuple[Client, Organisation],
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    client, company = company_client

    with django_capture_on_commit_callbacks() as callbacks:
        client.post(f"/companies/{company.pk}/settings/users/", {"email": "new@fidu.be"})
    run_queued_invitations(callbacks)

    assert not Dossier.objects.exists()
    assert ExternalUser.objects.get(company=company).status == "invited"
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["new@fidu.be"]
    assert "Boulangerie Dupont" in mail.outbox[0].subject
    assert "http://testserver/signup/firm/?email=new%40fidu.be" in mail.outbox[0].body

    _user, firm = services.sign_up(
        kind=Organisation.Kind.FIRM, email="new@fidu.be", password="Bob-Demat-2026!", name="Fidu"
    )

    assert Dossier.objects.filter(firm=firm, company=company).exists()
    assert ExternalUser.objects.get(company=company).status == "linked"


def test_removing_the_external_user_unlinks_the_company_from_the_firm(
    company_client: tuple[Client, Organisation],
) -> None:
    client, company = company_client
    firm = builders.firm("Fiduciaire Kevin", owner=builders.user("kevin@fidu.be"))
    external = services.add_external_user(company, "kevin@fidu.be", by=None)

    remove = f"/companies/{company.pk}/settings/users/external/{external.pk}/remove/"

    asked = client.post(remove, HTTP_ACCEPT_LANGUAGE="fr")
    assert asked.status_code == 200 and ExternalUser.objects.exists()
    response = client.post(remove, {"confirm": "1"})

    assert response.status_code == 302
    assert not Dossier.objects.filter(firm=firm).exists()
    assert not ExternalUser.objects.exists()
    assert AuditEntry.objects.filter(organisation=firm, action="dossier.unlinked").exists()


def test_the_dossier_stays_while_another_person_of_the_same_firm_remains(
    company_client: tuple[Client, Organisation],
) -> None:
    _client, company = company_client
    firm = builders.firm("Fiduciaire Kevin", owner=builders.user("kevin@fidu.be"))
    colleague = builders.user("sarah@fidu.be")
    firm.memberships.create(user=colleague)
    kevin = services.add_external_user(company, "kevin@fidu.be", by=None)
    services.add_external_user(company, "sarah@fidu.be", by=None)

    services.remove_external_user(kevin, by=None)

    assert Dossier.objects.filter(firm=firm, company=company).exists()


def test_adding_through_htmx_answers_the_updated_list_only(
    company_client: tuple[Client, Organisation],
) -> None:
    client, company = company_client
    builders.firm("Fiduciaire Kevin", owner=builders.user("kevin@fidu.be"))

    response = client.post(
        f"/companies/{company.pk}/settings/users/",
        {"email": "kevin@fidu.be"},
        HTTP_HX_REQUEST="true",
    )

    html = response.content.decode()
    assert html.startswith('<section class="panel" id="external-users"')
    assert "kevin@fidu.be" in html
    assert "<html" not in html


def test_the_api_adds_lists_and_removes_external_users(
    company_client: tuple[Client, Organisation],
) -> None:
    client, company = company_client
    firm = builders.firm("Fiduciaire Kevin", owner=builders.user("kevin@fidu.be"))
    url = f"/api/v1/companies/{company.pk}/external-users"

    linked = client.post(url, {"email": "kevin@fidu.be"}, content_type="application/json")
    invited = client.post(url, {"email": "other@fidu.be"}, content_type="application/json")

    assert linked.status_code == 201
    assert linked.json()["status"] == "linked"
    assert linked.json()["firm"] == {"id": firm.pk, "kind": "firm", "name": firm.name}
    assert invited.json()["status"] == "invited"
    assert {e["email"] for e in client.get(url).json()} == {"kevin@fidu.be", "other@fidu.be"}
    assert client.delete(f"{url}/{linked.json()['id']}").status_code == 204
    assert not Dossier.objects.exists()


def test_the_firm_opens_a_dossier_and_reads_the_companys_documents(client: Client) -> None:
    accountant = builders.user("kevin@fidu.be")
    firm = builders.firm("Fiduciaire Kevin", owner=accountant)
    company = builders.company("Boulangerie Dupont")
    dossier = services.link_accountant(company, firm, by=None)
    builders.document(company, number="2026-0042")
    client.force_login(accountant)

    listing = client.get(f"/firms/{firm.pk}/dossiers/").content.decode()
    page = client.get(f"/firms/{firm.pk}/dossiers/{dossier.pk}/").content.decode()
    api = client.get(f"/api/v1/firms/{firm.pk}/dossiers").json()

    assert f"/firms/{firm.pk}/dossiers/{dossier.pk}/" in listing
    assert "2026-0042" in page
    assert "Client Final SA" in page
    assert api == [
        {
            "id": dossier.pk,
            "company": {"id": company.pk, "name": company.name, "vat_number": "BE0403019261"},
            "linked_at": api[0]["linked_at"],
        }
    ]


def test_a_dossier_made_by_link_accountant_is_listed_among_the_external_users() -> None:
    firm = builders.firm("Fiduciaire Kevin", owner=builders.user("kevin@fidu.be"))
    company = builders.company()

    services.link_accountant(company, firm, by=None)

    assert list(company.external_users.values_list("email", flat=True)) == ["kevin@fidu.be"]


def test_removing_the_accountant_asks_first_and_says_what_stops(
    company_client: tuple[Client, Organisation],
) -> None:
    client, company = company_client
    builders.firm("Fiduciaire Kevin", owner=builders.user("kevin@fidu.be"))
    external = services.add_external_user(company, "kevin@fidu.be", by=None)

    page = client.post(
        f"/companies/{company.pk}/settings/users/external/{external.pk}/remove/",
        HTTP_ACCEPT_LANGUAGE="fr",
    ).content.decode()

    assert "Retirer kevin@fidu.be ?" in page
    assert "ne verra plus les documents de l'entreprise" in page
    assert "transfert automatique" in page
    assert Dossier.objects.filter(company=company).exists()


def test_an_unknown_address_says_an_invitation_went_to_it(
    company_client: tuple[Client, Organisation],
) -> None:
    client, company = company_client

    response = client.post(
        f"/companies/{company.pk}/settings/users/",
        {"email": "Sarah@Nouvelle-Fidu.be"},
        HTTP_ACCEPT_LANGUAGE="nl",
        follow=True,
    )

    assert "Er is een uitnodiging verstuurd naar sarah@nouvelle-fidu.be." in (
        response.content.decode()
    )
