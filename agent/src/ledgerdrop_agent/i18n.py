"""The downloader's words in its user's language: French, Dutch or English (the source), chosen
by `--lang`, else by the system's locale — on Windows its display language, which a service
started by the Task Scheduler has too, unlike the variables of a console.

The catalogues are the standard library's gettext ones, shipped in the package
(`locale/<language>/LC_MESSAGES/ledgerdrop_agent.mo`, made by `scripts/agent-messages.sh`).
"""

from __future__ import annotations

import gettext
import locale
import os
from collections.abc import Callable, Mapping
from pathlib import Path

DOMAIN = "ledgerdrop_agent"
LANGUAGES = ("fr", "nl", "en")
SOURCE_LANGUAGE = "en"
LOCALE_DIR = Path(__file__).with_name("locale")
_LOCALE_VARIABLES = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")

_translation: gettext.NullTranslations = gettext.NullTranslations()
_language = SOURCE_LANGUAGE


def _(message: str) -> str:
    return _translation.gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    return _translation.ngettext(singular, plural, count)


def language() -> str:
    return _language


def use(requested: str | None = None) -> str:
    """Speak `requested`, or the system's language when it is one of ours, else English."""
    global _translation, _language
    chosen = _supported(requested) or system_language() or SOURCE_LANGUAGE
    _translation = gettext.translation(DOMAIN, LOCALE_DIR, [chosen], fallback=True)
    _language = chosen
    return chosen


def system_language(
    environ: Mapping[str, str] | None = None,
    windows_ui_language: Callable[[], int | None] | None = None,
) -> str | None:
    """The first of our languages the system asks for. On Windows the display language comes
    first: a console rarely sets LANG there."""
    if windows_ui_language is None and os.name == "nt":
        windows_ui_language = _windows_ui_language
    if windows_ui_language is not None:
        langid = windows_ui_language()
        found = _supported(locale.windows_locale.get(langid or 0, ""))
        if found:
            return found
    environ = os.environ if environ is None else environ
    for variable in _LOCALE_VARIABLES:
        # LANGUAGE is a list ("nl_BE:fr"); the first variable that is set decides (as gettext).
        value = environ.get(variable, "")
        if value:
            for candidate in value.split(":"):
                if found := _supported(candidate):
                    return found
            if variable != "LANGUAGE":
                return None
    return None


def _supported(value: str | None) -> str | None:
    """ "fr_BE.UTF-8" → "fr"; None for C, POSIX and languages we do not speak."""
    code = (value or "").split(".")[0].split("@")[0].replace("-", "_").split("_")[0].lower()
    return code if code in LANGUAGES else None


def _windows_ui_language() -> int | None:
    import ctypes

    try:
        return int(ctypes.windll.kernel32.GetUserDefaultUILanguage())  # type: ignore[attr-defined]
    except (AttributeError, OSError):
        return None
