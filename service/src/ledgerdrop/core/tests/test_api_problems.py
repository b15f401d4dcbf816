"""Every error of both APIs is RFC 9457 problem details, also the ones Django makes itself: a
request body over the size limit, an unknown address, a refused method, an unhandled error."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.test import Client

from ledgerdrop.core import storage
from ledgerdrop.delivery import services as delivery_services
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

    answer = client.post("/api/device/v1/pairings", body, content_type="application/json")

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
        f"/api/device/v1/deliveries/{delivery.pk}/content",
        HTTP_AUTHORIZATION=f"Bearer {credential.token}",
    )

    body = problem(answer, 500)
    assert body["type"] == "urn:ledgerdrop:problem:server_error"
    assert "logged" in body["detail"]
    assert "Traceback" not in answer.content.decode()


def test_an_unknown_api_address_is_a_404_problem(client: Client) -> None:
    problem(client.get("/api/v1/no-such-thing"), 404)
    problem(client.get("/api/device/v1/no-such-thing"), 404)


def test_a_refused_method_is_a_405_problem_that_keeps_the_allow_header(client: Client) -> None:
    answer = client.delete("/api/v1/tokens")

    problem(answer, 405)
    assert "POST" in answer["Allow"]


def test_pages_outside_the_api_keep_their_html_errors(client: Client) -> None:
    answer = client.get("/no-such-page/")

    assert answer.status_code == 404
    assert answer["Content-Type"].startswith("text/html")
