"""Applications & connections (S4): the applications a firm can switch on. Each one is owned by
its connector, which registers it (`APPLICATIONS`); this module only lists them and forwards
the switch."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.functional import Promise

from ledgerdrop.accounts.models import Organisation, User
from ledgerdrop.core.registries import Registry


@dataclass(frozen=True)
class Application:
    slug: str
    name: str | Promise  # a package's own name, or words in the page's language
    section: str  # a stable code for the API; the page shows `section_label`
    section_label: Promise
    description: Promise
    is_enabled: Callable[[Organisation], bool]
    switch: Callable[[Organisation, bool, User | None], None]
    # The firm's menu entry while the application is on: its words and the name of its URL
    # (which takes the firm's id). The page it opens says `section` = the slug.
    menu_label: Promise | None = None
    menu_url_name: str = ""


# Connectors register their application here from their AppConfig.ready(), keyed by slug.
APPLICATIONS: Registry[Application] = Registry("accounts.applications")


def application(slug: str) -> Application | None:
    return APPLICATIONS.get(slug)


def set_enabled(firm: Organisation, app: Application, enabled: bool, *, by: User | None) -> None:
    """Each connector's own service records the audit row of its switch."""
    app.switch(firm, enabled, by)
