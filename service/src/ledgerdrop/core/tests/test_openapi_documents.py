"""What a client reads in both OpenAPI documents: every operation says what it takes, what it
answers and which problems it can give, and every schema name stands for one shape."""

from __future__ import annotations

import json
import types
import typing
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import pytest
from ninja import NinjaAPI
from ninja.responses import NinjaJSONEncoder
from pydantic import BaseModel

from ledgerdrop.config.api import api as application_api
from ledgerdrop.delivery.api import device_api

APIS = {"public": application_api, "device": device_api}
PROBLEM = "application/problem+json"
PROBLEM_REF = "#/components/schemas/Problem"


def document(api: NinjaAPI) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(json.dumps(api.get_openapi_schema(), cls=NinjaJSONEncoder))
    return loaded


def operations(api: NinjaAPI) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, methods in document(api)["paths"].items():
        for method, operation in methods.items():
            yield f"{method.upper()} {path}", operation


@pytest.mark.parametrize("name", APIS)
def test_every_operation_documents_its_error_responses(name: str) -> None:
    for operation_name, operation in operations(APIS[name]):
        errors = {int(s): a for s, a in operation["responses"].items() if int(s) >= 400}
        assert 503 in errors, operation_name  # a busy server, whatever the operation
        for status, answer in errors.items():
            schema = answer["content"].get(PROBLEM, {}).get("schema")
            assert schema == {"$ref": PROBLEM_REF}, f"{operation_name} {status}"
        if "security" in operation:
            assert 401 in errors, operation_name
        if "requestBody" in operation:
            assert {400, 413, 422} <= set(errors), operation_name


@pytest.mark.parametrize("name", APIS)
def test_every_operation_documents_what_it_takes_and_answers(name: str) -> None:
    for operation_name, operation in operations(APIS[name]):
        answers = {int(s): a for s, a in operation["responses"].items()}
        successes = [answer for status, answer in answers.items() if status < 300]
        assert successes, operation_name
        for answer in successes:
            if "content" in answer:
                assert all(media["schema"] for media in answer["content"].values())
        # An answer with no body says so with its status (204); anything else has a schema.
        assert all("content" in a for s, a in answers.items() if s not in {204, 304}), (
            operation_name
        )
        if "requestBody" in operation:
            media = operation["requestBody"]["content"]
            assert all(entry["schema"] for entry in media.values()), operation_name


def test_the_token_endpoint_keeps_the_rfc_8628_error_shape_in_its_document() -> None:
    answer = document(device_api)["paths"]["/api/device/v1/token"]["post"]["responses"]["400"]

    assert answer["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/TokenError"
    }


def _models_in(annotation: Any) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
        for field in annotation.model_fields.values():
            yield from _models_in(field.annotation)
    for argument in typing.get_args(annotation):
        yield from _models_in(argument)
    if isinstance(annotation, types.UnionType):
        for argument in annotation.__args__:
            yield from _models_in(argument)


def _schemas_by_name(api: NinjaAPI) -> dict[str, set[str]]:
    """Every model an operation takes or answers, by the name its schema gets in the document.
    Ninja's own wrappers (the response and the parameters of each operation) are not schemas
    of the document: what they hold is."""
    found: dict[str, set[type[BaseModel]]] = defaultdict(set)
    for router in api._get_bound_routers():
        for path_view in router.path_operations.values():
            for operation in path_view.operations:
                wrappers = [*operation.response_models.values(), *operation.models]
                for wrapper in wrappers:
                    if not isinstance(wrapper, type) or not issubclass(wrapper, BaseModel):
                        continue
                    for field in wrapper.model_fields.values():
                        for model in _models_in(field.annotation):
                            found[model.__name__].add(model)
    return {
        name: {f"{model.__module__}.{model.__qualname__}" for model in models}
        for name, models in found.items()
    }


def test_no_two_schemas_share_a_name() -> None:
    # One document is built from both APIs' names in a client generator: a name must mean one
    # shape across both.
    by_name: dict[str, set[str]] = defaultdict(set)
    for api in APIS.values():
        for name, models in _schemas_by_name(api).items():
            by_name[name] |= models

    assert {name: models for name, models in by_name.items() if len(models) > 1} == {}
