"""The application API (`/api/v1/`): one NinjaAPI assembling each app's router.

Callers authenticate with `Authorization: Bearer <token>` (an API token of accounts) or, from
the browser, with the session and its CSRF token. Either way `request.auth` is the `User`."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer, SessionAuth

from ledgerdrop.accounts import services as accounts_services
from ledgerdrop.accounts.api import router as accounts_router
from ledgerdrop.core import overload, problems


class ApiToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        return accounts_services.authenticate_token(token)


class BrowserSession(SessionAuth):
    """The signed-in browser. CSRF is checked only when there is a session to protect, so that a
    caller with no credential at all gets 401, not a CSRF 403."""

    def _get_key(self, request: HttpRequest) -> str | None:
        if not request.user.is_authenticated:
            return None
        return super()._get_key(request)


api = problems.ProblemAPI(
    title="Ledgerdrop API",
    version="1",
    urls_namespace="api",
    auth=[ApiToken(), BrowserSession()],
)
overload.install(api)
api.add_router("/", accounts_router)
api.add_router("/", "ledgerdrop.documents.api.router")
api.add_router("/", "ledgerdrop.delivery.api.router")
api.add_router("/", "ledgerdrop.connectors.bob_demat.api.router")
api.add_router("/", "ledgerdrop.connectors.presets.api.router")
