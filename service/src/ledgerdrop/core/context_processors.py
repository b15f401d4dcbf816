from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from ledgerdrop.core.tenancy import organisations_of


def organisations(request: HttpRequest) -> dict[str, Any]:
    """The organisations of the signed-in user, for the menu's organisation switcher."""
    if not request.user.is_authenticated:
        return {}
    return {"my_organisations": organisations_of(request.user)}
