"""RFC 9457 problem details for both APIs: every error a client sees has this one shape."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from ledgerdrop_protocol import Problem

PROBLEM_CONTENT_TYPE = "application/problem+json"


def problem_response(
    status: int,
    title: str,
    detail: str = "",
    *,
    code: str = "",
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> HttpResponse:
    problem = Problem(
        type=f"urn:ledgerdrop:problem:{code}" if code else "about:blank",
        title=title,
        status=status,
        detail=detail,
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
        return problem_response(exc.status_code, str(exc.message))


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
