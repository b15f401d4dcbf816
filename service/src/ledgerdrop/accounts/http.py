"""What accounts needs to know about the request: who is asking from where, and this site's
address as they see it."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


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
