"""Both OpenAPI documents, fuzzed by schemathesis: whatever a client sends that the schema
allows or not, no operation answers with a server error (5xx), and every answer is one the
document announces — its status, its content type and the shape of its body. A few examples
per operation, against the whole Django stack in this process, signed in as the firm, the
company or the device an operation belongs to, with the ids of their own records in the path."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, settings
from ninja import NinjaAPI
from ninja.responses import NinjaJSONEncoder
from schemathesis import Case
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from ledgerdrop.accounts import services as accounts_services
from ledgerdrop.config.api import api as application_api
from ledgerdrop.delivery import services as delivery_services
from ledgerdrop.delivery.api import device_api
from tests import builders

pytestmark = pytest.mark.django_db

APP = get_wsgi_application()


def loaded(api: NinjaAPI) -> Any:
    """The schema as `GET …/openapi.json` serves it, read from the API object itself: a request
    would pass the middleware that takes a database connection, which collection forbids."""
    document = json.loads(json.dumps(api.get_openapi_schema(), cls=NinjaJSONEncoder))
    schema = schemathesis.openapi.from_dict(document)
    schema.app = APP
    return schema


schemas = {"public": loaded(application_api), "device": loaded(device_api)}


@pytest.fixture(autouse=True)
def connection_kept_across_requests() -> Iterator[None]:
    """As Django's test client does: a request must not close the connection that holds the
    test's transaction."""
    for signal in (signals.request_started, signals.request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (signals.request_started, signals.request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def tenants() -> dict[str, Any]:
    """A firm with its company, a dossier, a device and a queued delivery: the records whose
    ids the generated requests name, so that they reach the code behind the 404s."""
    firm, company = builders.firm(), builders.company()
    builders.connected_dossier(firm, company, code="DUPONT")
    device = delivery_services.register_device(firm, name="PC Kevin")
    document = builders.document(company)
    return {
        "ids": {"fid": firm.pk, "firm_id": firm.pk, "cid": company.pk},
        "firm": accounts_services.issue_token(firm.memberships.get().user)[1],
        "company": accounts_services.issue_token(company.memberships.get().user)[1],
        "device": device.token,
        "document": document.pk,
    }


def _signed(case: Case[Any], tenants: dict[str, Any]) -> dict[str, str]:
    path = case.operation.path
    if path.startswith("/api/device/"):
        token = tenants["device"]
    else:
        token = tenants["company" if "{cid}" in path else "firm"]
    return {"Authorization": f"Bearer {token}"}


@schemathesis.pytest.parametrize(**schemas)
@pytest.mark.timeout(30)  # per operation: a few examples take seconds, a hang fails here
@settings(
    max_examples=3,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_no_operation_answers_with_a_server_error(case: Case[Any], tenants: dict[str, Any]) -> None:
    for name, value in tenants["ids"].items():
        if case.path_parameters and name in case.path_parameters:
            case.path_parameters[name] = value
    if case.path_parameters and "document_id" in case.path_parameters:
        case.path_parameters["document_id"] = tenants["document"]
    if case.query and "wait" in case.query:
        case.query["wait"] = 0  # a long poll would hold the test for its whole wait

    response = case.call(headers=_signed(case, tenants))

    case.validate_response(
        response,
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ],
    )
