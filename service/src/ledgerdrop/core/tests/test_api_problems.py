"""Every error of both APIs is RFC 9457 problem details, also the ones Django makes itself: a
request body over the size limit or not JSON, an unknown address, a refused method, a missing
credential, a failed CSRF check, too many tries, a busy database, an unhandled error."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.db import OperationalError
from django.http import HttpRequest
from django.test import Client
from ninja.testing import TestClient

from ledgerdrop.accounts import services as accounts_services
from ledgerdrop.core import overload, storage
from ledgerdrop.core.errors import Kind
from ledgerdrop.core.problems import STATUS_OF_KIND, ProblemAPI
from ledgerdrop.delivery import services as delivery_services
from ledgerdrop_protocol import routes
from tests import builders

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


@pytest.fixture
def client() -> Client:
    # Errors come back as the answers a client would get, not as exceptions in the test.
    return Client(raise_request_exception=False)


def problem(answer: Any, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.content[:500]
    assert answer["Content-Type"] == PROBLEM
    body: dict[str, Any] = answer.json()
    assert body["status"] == status
    assert body["title"]
    return body


def test_a_json_body_over_the_limit_is_a_413_problem_with_both_sizes(client: Client) -> None:
    body = json.dumps({"email": "a@b.be", "password": "x" * (3 * 1024 * 1024)})

    answer = client.post("/api/v1/tokens", body, content_type="application/json")

    assert problem(answer, 413)["detail"] == "The request body is 3.0 MB; the limit is 2.5 MB."


def test_a_device_api_body_over_the_limit_is_a_413_problem(client: Client) -> None:
    body = json.dumps({"name": "x" * (3 * 1024 * 1024)})

    answer = client.post(routes.PAIRINGS.url(), body, content_type="application/json")

    assert "the limit is 2.5 MB" in problem(answer, 413)["detail"]


def test_an_unhandled_error_in_the_device_api_is_a_500_problem(client: Client) -> None:
    firm = builders.firm()
    credential = delivery_services.register_device(firm, name="PC Kevin")
    blob = storage.put(b"<Invoice>lost</Invoice>")
    delivery = delivery_services.queue_delivery(
        credential.device, relative_path="ACME/achats/f.xml", blob=blob
    )
    default_storage.delete(blob.name)  # a stored file lost on the server's disk

    answer = client.get(
        routes.CONTENT.url(delivery_id=delivery.pk),
        HTTP_AUTHORIZATION=f"Bearer {credential.token}",
    )

    body = problem(answer, 500)
    assert body["type"] == "urn:ledgerdrop:problem:server_error"
    assert "logged" in body["detail"]
    assert "Traceback" not in answer.content.decode()


def test_an_unknown_api_address_is_a_404_problem(client: Client) -> None:
    problem(client.get("/api/v1/no-such-thing"), 404)
    problem(client.get(f"{routes.PREFIX}/no-such-thing"), 404)


def test_a_refused_method_is_a_405_problem_that_keeps_the_allow_header(client: Client) -> None:
    answer = client.delete("/api/v1/tokens")

    problem(answer, 405)
    assert "POST" in answer["Allow"]


def test_pages_outside_the_api_keep_their_html_errors(client: Client) -> None:
    answer = client.get("/no-such-page/")

    assert answer.status_code == 404
    assert answer["Content-Type"].startswith("text/html")


def test_a_body_that_is_not_json_answers_400_problem_json(client: Client) -> None:
    public = client.post("/api/v1/tokens", "{not json", content_type="application/json")
    device = client.post("/api/device/v1/pairings", "{not json", content_type="application/json")

    assert "parse" in problem(public, 400)["detail"]
    assert "parse" in problem(device, 400)["detail"]


def test_fields_that_break_the_schema_answer_422_problem_json_naming_each_field(
    client: Client,
) -> None:
    answer = client.post("/api/v1/tokens", {"email": "a@b.be"}, content_type="application/json")

    body = problem(answer, 422)
    assert body["code"] == "validation"
    assert [error["field"] for error in body["errors"]] == ["password"]


def test_a_number_too_large_to_compute_with_answers_422_problem_json(client: Client) -> None:
    company = builders.invoicing_company()
    client.force_login(company.memberships.get().user)
    document = {
        "kind": "sales_invoice",
        "issue_date": "2026-11-02",
        "currency": "USD",
        "eur_rate": "1E+999999",
        "counterparty": {"name": "Brouwerij Noord NV"},
        "lines": [{"description": "Conseil", "quantity": "1", "unit_price": "100"}],
    }

    answer = client.post(
        f"/api/v1/companies/{company.pk}/documents", document, content_type="application/json"
    )

    assert "eur_rate" in problem(answer, 422)["detail"]


def test_an_arithmetic_error_of_decimals_is_the_request_s_fault_not_a_crash() -> None:
    api = ProblemAPI(urls_namespace="decimal-test")

    @api.get("/share", auth=None)
    def share(request: HttpRequest, amount: str) -> str:
        return str(Decimal(amount).quantize(Decimal("0.01")))  # InvalidOperation for 1E+99

    answer = TestClient(api).get("/share?amount=1E%2B99")

    assert answer.status_code == 422
    assert answer.json()["code"] == "invalid_number"


def test_a_missing_credential_answers_401_problem_json(client: Client) -> None:
    public = client.get("/api/v1/me")
    device = client.get("/api/device/v1/deliveries")

    assert problem(public, 401)["code"] == "unauthenticated"
    assert problem(device, 401)["code"] == "unauthenticated"
    assert public["WWW-Authenticate"] == "Bearer"


def test_a_browser_session_without_its_csrf_token_answers_403_problem_json() -> None:
    browser = Client(enforce_csrf_checks=True, raise_request_exception=False)
    firm = builders.firm()
    browser.force_login(firm.memberships.get().user)

    answer = browser.post(f"/api/v1/firms/{firm.pk}/devices/enrolment-keys")

    assert "CSRF" in problem(answer, 403)["detail"]


def test_too_many_failed_sign_ins_answer_429_problem_json_with_retry_after(
    client: Client,
) -> None:
    firm = builders.firm()
    email = firm.memberships.get().user.email
    wrong = {"email": email, "password": "not-the-password"}
    for _ in range(accounts_services.MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS):
        problem(client.post("/api/v1/tokens", wrong, content_type="application/json"), 401)

    answer = client.post(
        "/api/v1/tokens",
        {"email": email, "password": builders.PASSWORD},
        content_type="application/json",
    )

    assert problem(answer, 429)["code"] == "too_many_attempts"
    assert int(answer["Retry-After"]) == 15 * 60


def test_a_busy_database_answers_503_problem_json_with_retry_after() -> None:
    api = ProblemAPI(urls_namespace="busy-test")
    overload.install(api)

    @api.get("/api/v1/write", auth=None)
    def write(request: HttpRequest) -> None:
        raise OperationalError("database is locked")  # what SQLite says past its busy wait

    answer = TestClient(api).get("/api/v1/write")

    assert answer.status_code == 503
    assert answer["Content-Type"] == PROBLEM
    assert answer.json()["code"] == "busy"
    assert answer["Retry-After"]


def test_every_kind_of_refusal_has_a_status() -> None:
    assert set(STATUS_OF_KIND) == set(Kind)
    assert all(400 <= status < 600 for status in STATUS_OF_KIND.values())


def test_the_token_endpoint_answers_in_oauth_s_shape_not_as_a_problem(client: Client) -> None:
    answer = client.post(
        "/api/device/v1/token", {"device_code": "unknown"}, content_type="application/json"
    )

    assert answer.status_code == 400
    assert answer["Content-Type"] == "application/json"
    assert answer.json() == {
        "error": "invalid_grant",
        "error_description": "This device code is unknown or was already used.",
    }
