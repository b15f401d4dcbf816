"""Errors of the documents API are problem details too: a stored file lost from the disk, an
upload over the size limit (which says its real size and the limit, as the upload page does)."""

from __future__ import annotations

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from ledgerdrop.accounts.models import Organisation
from ledgerdrop.core import storage
from ledgerdrop.core.tests.test_api_problems import problem
from ledgerdrop.documents import services as document_services
from tests import builders

pytestmark = pytest.mark.django_db


@pytest.fixture
def client() -> Client:
    return Client(raise_request_exception=False)


@pytest.mark.usefixtures("peppol_rules")
def test_an_unhandled_error_in_the_application_api_is_a_500_problem(client: Client) -> None:
    company = builders.invoicing_company()
    document = document_services.create_document(
        company, builders.invoice_input(), by=None, draft=False
    )
    default_storage.delete(storage.blob_name(document.pdf_sha256))
    client.force_login(company.memberships.get().user)

    answer = client.get(f"/api/v1/companies/{company.pk}/documents/{document.pk}/pdf")

    problem(answer, 500)


@pytest.fixture
def company_client(client: Client) -> tuple[Organisation, Client]:
    company = builders.invoicing_company()
    client.force_login(company.memberships.get().user)
    return company, client


def test_a_too_large_upload_says_its_real_size_and_the_limit(
    company_client: tuple[Organisation, Client],
) -> None:
    company, client = company_client
    upload = SimpleUploadedFile("big.xml", b"<" * (50 * 1024 * 1024), "application/xml")

    answer = client.post(f"/api/v1/companies/{company.pk}/documents/upload", {"file": upload})

    assert problem(answer, 413)["detail"] == "The file is 50.0 MB; the limit is 20 MB."
    assert not company.documents.exists()


def test_the_upload_page_says_the_real_size_and_the_limit_too(
    company_client: tuple[Organisation, Client],
) -> None:
    company, client = company_client
    upload = SimpleUploadedFile("big.xml", b"<" * (50 * 1024 * 1024), "application/xml")

    page = client.post(
        f"/companies/{company.pk}/purchases/",
        {"file": upload, "upload": "1"},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert "The file is 50.0\xa0MB; the limit is 20.0\xa0MB." in page.content.decode()
