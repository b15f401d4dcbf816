"""The application API (`/api/v1/`): one NinjaAPI assembling each app's router."""

from __future__ import annotations

from ninja import NinjaAPI
from ninja.security import django_auth

from ledgerdrop.accounts.api import router as accounts_router
from ledgerdrop.core import problems

api = NinjaAPI(
    title="Ledgerdrop API",
    version="1",
    urls_namespace="api",
    auth=[django_auth],
)
problems.install(api)
api.add_router("/", accounts_router)
