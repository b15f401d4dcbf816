"""RFC 9457 problem details for both APIs: every error a client sees has this one shape."""

from __future__ import annotations

from typing import Any

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
