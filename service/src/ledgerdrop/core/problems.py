"""RFC 9457 problem details for both APIs: every error a client sees has this one shape, and
both OpenAPI documents say which of them each operation can give.

A service's refusal (`core.errors.ServiceError`) becomes a problem here, its kind turned into a
status by `STATUS_OF_KIND`, the one place that knows both."""

from __future__ import annotations

import decimal
import math
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.openapi.schema import OpenAPISchema

from ledgerdrop.core.errors import Kind, ServiceError
from ledgerdrop_protocol import Problem

PROBLEM_CONTENT_TYPE = "application/problem+json"

STATUS_OF_KIND: dict[Kind, int] = {
    Kind.INVALID: 422,
    Kind.NOT_FOUND: 404,
    Kind.CONFLICT: 409,
    Kind.FORBIDDEN: 403,
    Kind.GONE: 410,
    Kind.TOO_LARGE: 413,
    Kind.TOO_MANY: 429,
    Kind.UNAVAILABLE: 503,
}


def problem_response(
    status: int,
    title: str,
    detail: str = "",
    *,
    code: str = "",
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> HttpResponse:
    code = code or _code_of(status)
    problem = Problem(
        type=f"urn:ledgerdrop:problem:{code}",
        title=title,
        status=status,
        detail=detail,
        code=code,
        errors=errors,
    )
    response = HttpResponse(
        problem.model_dump_json(exclude_none=True),
        status=status,
        content_type=PROBLEM_CONTENT_TYPE,
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def service_error_response(error: ServiceError) -> HttpResponse:
    """A service's refusal as the client sees it. The message is the title unless the error
    names its sort of problem, and the detail either way."""
    headers = None
    if error.retry_after is not None:
        headers = {"Retry-After": str(max(1, math.ceil(error.retry_after.total_seconds())))}
    return problem_response(
        STATUS_OF_KIND[error.kind],
        error.title or error.message,
        error.message,
        code=error.code,
        errors=error.errors or None,
        headers=headers,
    )


class ProblemAPI(NinjaAPI):
    """A NinjaAPI whose errors are problem details, and whose OpenAPI document lists, for each
    operation, the problems every operation of its sort can give (see `_document_errors`) on
    top of those it declares itself with `errors(…)`."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        install(self)

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        _document_errors(schema)
        return schema


def errors(*statuses: int) -> dict[int, type[Problem]]:
    """The problems an operation gives beyond those of every operation of its sort, for its
    `response`: `response={200: DeviceOut, **errors(409, 422)}`."""
    return dict.fromkeys(statuses, Problem)


_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
_PROBLEM_CONTENT = {PROBLEM_CONTENT_TYPE: {"schema": _PROBLEM_REF}}


def _document_errors(schema: OpenAPISchema) -> None:
    components = schema.setdefault("components", {})
    components.setdefault("schemas", {})["Problem"] = Problem.model_json_schema()
    cookie_auth = {
        name
        for name, scheme in components.get("securitySchemes", {}).items()
        if scheme.get("in") == "cookie"
    }
    for operations in schema["paths"].values():
        for method, operation in operations.items():
            responses = operation["responses"]  # keyed by int, as ninja makes them
            for answer in responses.values():
                content = answer.get("content", {})
                if content.get("application/json", {}).get("schema") == _PROBLEM_REF:
                    answer["content"] = dict(_PROBLEM_CONTENT)
            for status in _common_errors(method, operation, cookie_auth):
                answer = responses.setdefault(status, {"description": HTTPStatus(status).phrase})
                # Beside what the operation answers itself with this status, if anything
                # (the token endpoint's RFC 8628 errors are 400s too).
                answer.setdefault("content", {}).update(_PROBLEM_CONTENT)


def _common_errors(method: str, operation: dict[str, Any], cookie_auth: set[str]) -> list[int]:
    """What any operation of this sort may answer: refused credentials, an unknown id in the
    path, a body that cannot be read or is too large, invalid parameters, a busy server."""
    statuses = [503]
    security = [name for requirement in operation.get("security", []) for name in requirement]
    if security:
        statuses.append(401)
    if cookie_auth.intersection(security) and method.upper() not in {"GET", "HEAD", "OPTIONS"}:
        statuses.append(403)  # the browser session's CSRF check
    parameters = operation.get("parameters", [])
    if any(parameter["in"] == "path" for parameter in parameters):
        statuses.append(404)
    if "requestBody" in operation:
        statuses += [400, 413]
    if parameters or "requestBody" in operation:
        statuses.append(422)
    return statuses


def install(api: NinjaAPI) -> None:
    @api.exception_handler(ValidationError)
    def invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        errors = [
            {"field": _field_name(error.get("loc", ())), "message": error.get("msg", "")}
            for error in exc.errors
        ]
        return problem_response(
            422,
            "Invalid request",
            "Some fields are missing or wrong; see errors.",
            code="validation",
            errors=errors,
        )

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return problem_response(
            401,
            "Not authenticated",
            "The credential is missing, unknown or revoked.",
            code="unauthenticated",
            headers={"WWW-Authenticate": "Bearer"},
        )

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        # Someone else's object and a missing one look the same: no hint that it exists.
        return problem_response(404, "Not found", str(exc) or "", code="not_found")

    @api.exception_handler(RequestDataTooBig)
    def too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
        size = int(request.headers.get("Content-Length") or 0)
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return problem_response(
            413,
            "Request too large",
            f"The request body is {_megabytes(size)}; the limit is {_megabytes(limit)}.",
            code="too_large",
        )

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        return problem_response(exc.status_code, _phrase(exc.status_code), str(exc.message))

    @api.exception_handler(DjangoValidationError)
    def invalid_fields(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
        # A service's checks of the fields (e.g. the sign-up's password rules), field by field.
        fields = exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages}
        errors = [
            {"field": "" if field == "__all__" else field, "message": message}
            for field, messages in fields.items()
            for message in messages
        ]
        return problem_response(
            422,
            "Invalid request",
            " ".join(error["message"] for error in errors),
            code="validation",
            errors=errors,
        )

    @api.exception_handler(ServiceError)
    def refused(request: HttpRequest, exc: ServiceError) -> HttpResponse:
        return service_error_response(exc)

    @api.exception_handler(decimal.DecimalException)
    def incalculable(request: HttpRequest, exc: decimal.DecimalException) -> HttpResponse:
        # A number that parses yet cannot be computed with (too many digits, an exponent of
        # a million): the request is at fault, not the server.
        return problem_response(
            422,
            "Invalid number",
            "A number in the request is too large or too precise to compute with.",
            code="invalid_number",
        )


def _field_name(location: tuple[Any, ...] | list[Any]) -> str:
    """`("body", "payload", "lines", 0, "quantity")` → `lines.0.quantity`: what the client
    sent, not where the framework found it (a JSON body comes after the handler's parameter
    name, whatever it is called)."""
    parts = [str(part) for part in location]
    if parts[:1] == ["body"] and len(parts) > 2:
        return ".".join(parts[2:])
    if parts and parts[0] in {"body", "query", "path", "header", "form", "file"}:
        parts = parts[1:]
    return ".".join(parts)


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


API_PREFIX = "/api/"
# What an error made outside the API's own handlers means to a client, when Django says it
# with an HTML page: an unknown address, a refused method, a crash, an unreadable request.
_DETAILS = {
    400: "The request could not be read.",
    403: "This is not allowed.",
    404: "There is nothing at this address.",
    405: "This address does not take this method; see the Allow header.",
    500: "Something went wrong on the server. It is logged; try again later, or tell the "
    "administrator if it lasts.",
}
_BODY_HEADERS = frozenset({"content-type", "content-length"})


class ApiErrorsAsProblems:
    """Every error answer under `/api/` is problem details, also those that Django or a
    middleware make with an HTML page (an unknown address, a 405, an unhandled exception's
    500). Outermost, so that it sees what every other layer answered."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        content_type = response.get("Content-Type", "")
        if (
            response.status_code >= 400
            and request.path.startswith(API_PREFIX)
            and not content_type.startswith(("application/json", PROBLEM_CONTENT_TYPE))
        ):
            status = response.status_code
            # Allow, Content-Range, Retry-After… still describe the answer; only the body changes.
            headers = {
                name: value for name, value in response.items() if name.lower() not in _BODY_HEADERS
            }
            return problem_response(
                status,
                _phrase(status),
                _DETAILS.get(status, ""),
                code="server_error" if status >= 500 else "",
                headers=headers,
            )
        return response


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _code_of(status: int) -> str:
    """`404` → `not_found`: a problem without a code of its own is named after its status."""
    return _phrase(status).lower().replace(" ", "_").replace("-", "_").replace("'", "")
