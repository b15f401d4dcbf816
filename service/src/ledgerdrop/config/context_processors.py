from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from ledgerdrop.accounts import applications
from ledgerdrop.accounts.tenancy import current_organisation, organisations_of


def organisations(request: HttpRequest) -> dict[str, Any]:
    """The organisations of the signed-in user, for the organisation switcher, and the
    applications switched on for the current firm, for its menu."""
    if not request.user.is_authenticated:
        return {}
    current = current_organisation(request)
    enabled = (
        {app.slug for app in applications.APPLICATIONS if app.is_enabled(current)}
        if current is not None and current.is_firm
        else set()
    )
    return {
        "my_organisations": organisations_of(request.user),
        "current_organisation": current,
        "enabled_apps": enabled,
    }
