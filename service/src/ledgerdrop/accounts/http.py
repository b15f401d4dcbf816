"""What accounts needs to know about the request: who is asking from where, and this site's
address as they see it."""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponseBase

from ledgerdrop.accounts.models import User


def client_ip(request: Any) -> str:
    """The address sign-in limits count by. Behind N trusted reverse proxies it is the N-th
    address from the right of X-Forwarded-For; otherwise every person would share the proxy's
    address, and one attacker would lock everybody out."""
    if request is None:
        return ""
    proxies = settings.LEDGERDROP_TRUSTED_PROXIES
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    if proxies and len(forwarded) >= proxies and forwarded[-proxies]:
        return str(forwarded[-proxies])
    return str(request.META.get("REMOTE_ADDR", ""))


def site_url(request: HttpRequest) -> str:
    """This site's address as the person sees it, for links in e-mails."""
    return settings.PUBLIC_URL or request.build_absolute_uri("/").rstrip("/")


# A browser that has signed in to an account before is a known device of that account: its
# sign-ins are limited by its own failures only, so that nobody else can lock it out. The
# cookie is signed (nobody can claim to be a known device) and names the accounts it opened.
KNOWN_DEVICE_COOKIE = "ledgerdrop_device"
_KNOWN_DEVICE_SALT = "ledgerdrop.accounts.known-device"
_KNOWN_DEVICE_MAX_AGE = 365 * 24 * 3600
_KNOWN_DEVICE_MAX_ACCOUNTS = 10


def _device_cookie(request: HttpRequest) -> dict[str, Any]:
    raw = request.COOKIES.get(KNOWN_DEVICE_COOKIE, "")
    try:
        value = signing.loads(raw, salt=_KNOWN_DEVICE_SALT, max_age=_KNOWN_DEVICE_MAX_AGE)
    except signing.BadSignature:
        return {}
    valid = isinstance(value, dict) and isinstance(value.get("id"), str)
    return value if valid and isinstance(value.get("users"), list) else {}


def known_device(request: HttpRequest | None, user: User | None) -> str:
    """The id of this browser when it has signed in to `user`'s account before, else ""."""
    if request is None or user is None:
        return ""
    cookie = _device_cookie(request)
    return str(cookie["id"]) if user.pk in cookie.get("users", []) else ""


def remember_device(request: HttpRequest, response: HttpResponseBase, user: User) -> None:
    """Make this browser a known device of `user`'s account (after a sign-in or a reset)."""
    cookie = _device_cookie(request) or {"id": secrets.token_urlsafe(16), "users": []}
    users = [pk for pk in cookie["users"] if pk != user.pk][-(_KNOWN_DEVICE_MAX_ACCOUNTS - 1) :]
    response.set_cookie(
        KNOWN_DEVICE_COOKIE,
        signing.dumps({"id": cookie["id"], "users": [*users, user.pk]}, salt=_KNOWN_DEVICE_SALT),
        max_age=_KNOWN_DEVICE_MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )
