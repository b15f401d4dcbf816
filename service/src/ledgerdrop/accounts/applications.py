"""Applications & connections (S4): the applications a firm can switch on. Each one is owned by
its connector; this module only lists them and forwards the switch."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from ledgerdrop.accounts.models import Organisation, User
from ledgerdrop.connectors.bob_demat import services as bob_demat
from ledgerdrop.connectors.bob_demat.models import DematSettings


@dataclass(frozen=True)
class Application:
    slug: str
    name: str
    section: str  # a stable code for the API; the page shows `section_label`
    section_label: Promise
    description: Promise
    is_enabled: Callable[[Organisation], bool]
    switch: Callable[[Organisation, bool, User | None], None]


def _bob_demat_enabled(firm: Organisation) -> bool:
    return DematSettings.objects.filter(firm=firm, enabled=True).exists()


def _bob_demat_switch(firm: Organisation, enabled: bool, by: User | None) -> None:
    if enabled:
        bob_demat.enable(firm, by=by)
    else:
        bob_demat.disable(firm, by=by)


APPLICATIONS = (
    Application(
        slug="bob-demat",
        name="Sage BOB Demat",
        section="accounting",
        section_label=_("Accounting"),
        description=_(
            "Places the documents of your dossiers in the folders that BOB Demat imports, "
            "through the Accounting Downloader."
        ),
        is_enabled=_bob_demat_enabled,
        switch=_bob_demat_switch,
    ),
)


def application(slug: str) -> Application | None:
    return next((app for app in APPLICATIONS if app.slug == slug), None)


def set_enabled(firm: Organisation, app: Application, enabled: bool, *, by: User | None) -> None:
    """Each connector's own service records the audit row of its switch."""
    app.switch(firm, enabled, by)
