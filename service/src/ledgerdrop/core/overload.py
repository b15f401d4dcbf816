"""Overload is an answer, not a crash: 503 with Retry-After when this node is out of request
threads or database connections (PostgreSQL's pool, SQLite's write lock) for longer than a
short wait. APIs get RFC 9457 problem details, people a page saying to try again in their
language; nothing was changed either way.

Three paths lead here: the admission gate in front of Django (no request thread free, see
`admission.py`), this middleware (no connection free at the start of a request, or a view that
waited too long for one or for the write lock), and the APIs' exception handler (`install`)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.signals import got_request_exception
from django.db import OperationalError, connection
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils import translation
from ninja import NinjaAPI
from psycopg_pool import PoolTimeout

from ledgerdrop.core.problems import problem_response

_OVERLOADED = "ledgerdrop.overloaded"


def is_overload(error: BaseException | None) -> bool:
    """A database error that says "too busy right now", not "something is wrong"."""
    if not isinstance(error, OperationalError):
        return False
    return isinstance(error.__cause__, PoolTimeout) or "database is locked" in str(error)


def busy_response(request: HttpRequest) -> HttpResponse:
    retry_after = str(settings.LEDGERDROP_BUSY_RETRY_AFTER_SECONDS)
    if _wants_problem(request):
        return problem_response(
            503,
            "Service busy",
            f"Too many requests at once; nothing was changed. Try again in {retry_after} s.",
            code="busy",
            headers={"Retry-After": retry_after},
        )
    with translation.override(translation.get_language_from_request(request)):
        page = render_to_string(
            "core/busy.html",
            {"retry_after": retry_after, "again": request.method in {"GET", "HEAD"},
             "path": request.get_full_path()},
        )  # fmt: skip
    response = HttpResponse(page, status=503)
    response["Retry-After"] = retry_after
    return response


def _wants_problem(request: HttpRequest) -> bool:
    accept = request.headers.get("Accept", "")
    return request.path.startswith("/api/") or ("json" in accept and "html" not in accept)


class OverloadMiddleware:
    """Right after static files in MIDDLEWARE: takes the request's database connection before
    anything else does, so that the wait for a free one ends here, in a 503, rather than in
    some middleware's query turned into a 500."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        got_request_exception.connect(note_overload, dispatch_uid="ledgerdrop-overload")

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            connection.ensure_connection()
        except OperationalError as error:
            if not is_overload(error):
                raise
            return busy_response(request)
        response = self.get_response(request)
        if request.META.get(_OVERLOADED):
            return busy_response(request)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> Any:
        return busy_response(request) if is_overload(exception) else None


def note_overload(sender: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
    """`got_request_exception`: an inner middleware that waited too long (e.g. the session
    written under SQLite's lock) has its 500 turned into a 503 by `OverloadMiddleware`."""
    if request is not None and is_overload(sys.exc_info()[1]):
        request.META[_OVERLOADED] = True


def install(api: NinjaAPI) -> None:
    """Answer 503 from the API's own exception handling, before any catch-all turns it into
    a 500."""

    @api.exception_handler(OperationalError)
    def overloaded(request: HttpRequest, exc: OperationalError) -> HttpResponse:
        if not is_overload(exc):
            raise exc
        return busy_response(request)
