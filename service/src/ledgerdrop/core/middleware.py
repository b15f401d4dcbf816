"""Response headers that protect every page."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase


class StrictTransportSecurityMiddleware:
    """HSTS whenever the deployment says it is behind HTTPS (secure cookies on).

    Django's own HSTS needs the request itself to look secure, which behind a TLS proxy depends
    on a forwarded header; browsers ignore the header on plain HTTP anyway (RFC 6797 §8.1), so
    sending it on every response is both safe and sure to reach them."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if settings.LEDGERDROP_HSTS_SECONDS:
            response.headers.setdefault(
                "Strict-Transport-Security", f"max-age={settings.LEDGERDROP_HSTS_SECONDS}"
            )
        return response
