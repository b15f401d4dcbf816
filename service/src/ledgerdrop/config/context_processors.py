from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from ledgerdrop.accounts import applications
from ledgerdrop.accounts.tenancy import current_organisation, organisations_of


def organisations(request: HttpRequest) -> dict[str, Any]:
    """The organisations of the signed-in user, for the organisation switcher, and the menu
    entries of the applications switched on for the current firm."""
    if not request.user.is_authenticated:
        return {}
    current = current_organisation(request)
    menu = (
        [
            {
                "slug": app.slug,
                "label": app.menu_label,
                "url": reverse(app.menu_url_name, args=[current.pk]),
            }
            for app in applications.APPLICATIONS
            if app.menu_label is not None and app.is_enabled(current)
        ]
        if current is not None and current.is_firm
        else []
    )
    return {
        "my_organisations": organisations_of(request.user),
        "current_organisation": current,
        "application_menu": menu,
    }
