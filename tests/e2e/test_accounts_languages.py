"""The Dutch and English pages have no untranslated strings.

Every page of the URL configuration that a firm or a company user can open is rendered in
French, Dutch and English with the same data. A piece of text that comes out identical in two
languages is untranslated, unless it is data (names, e-mails, numbers, codes), code shown as
code, or a word the catalogue itself translates identically (such as "Dossiers")."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.db import models
from django.utils.translation import get_language_info
from playwright.sync_api import Page

from ledgerdrop.accounts.models import User
from ledgerdrop.connectors.presets.catalogue import PRESETS
from ledgerdrop.core.tests.test_tenancy_matrix import (
    PARAMETER,
    PUBLIC_PAGES,
    World,
    page_url,
    pages,
    victim_world,
)
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.e2e

LANGUAGES = ("fr", "nl", "en")
PROPER_NAMES = {"Windows", "Linux", "macOS", "Python", "systemd"}
# Codes (ABCD-EFGH, BE0403019261) and addresses are the same in every language.
CODES_AND_ADDRESSES = re.compile(r"\b[A-Z0-9]{2,}(?:-[A-Z0-9]+)+\b|\S+@\S+|https?://\S+")
# Text nodes, and the texts people hear or read in attributes; code blocks say commands.
VISIBLE_TEXTS = """() => {
  const skip = new Set(["SCRIPT", "STYLE", "CODE", "PRE", "KBD", "SAMP"]);
  const pageLanguage = document.documentElement.lang;
  const texts = [document.title];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT, {
    acceptNode: (node) => {
      for (let el = node.parentElement; el; el = el.parentElement) {
        if (skip.has(el.tagName) || el.getAttribute("translate") === "no" ||
            (el.lang && el.lang !== pageLanguage)) {
          return NodeFilter.FILTER_REJECT;
        }
      }
      return NodeFilter.FILTER_ACCEPT;
    },
  });
  while (walker.nextNode()) texts.push(walker.currentNode.nodeValue);
  for (const el of document.querySelectorAll("[aria-label],[title],[placeholder],[alt]")) {
    for (const name of ["aria-label", "title", "placeholder", "alt"]) {
      if (el.hasAttribute(name)) texts.push(el.getAttribute(name));
    }
  }
  return texts.map((t) => t.replace(/\\s+/g, " ").trim()).filter((t) => t);
}"""


def identical_in_catalogue(language: str) -> set[str]:
    """Words whose translation is the English word itself, by the catalogue's own choice."""
    po = Path(settings.LOCALE_PATHS[0]) / language / "LC_MESSAGES" / "django.po"
    pairs = re.findall(r'^msgid "(.+)"\nmsgstr "(.+)"$', po.read_text(), flags=re.M)
    return {msgid for msgid, msgstr in pairs if msgid == msgstr}


def data_values() -> list[str]:
    """Every short text stored in the database: names, e-mails, numbers, codes, paths."""
    values: set[str] = {"Ledgerdrop", "Sage BOB Demat", "Sage Demat", "BOB Demat", "PEPPOL"}
    values.update(PROPER_NAMES)
    # The accounting packages' own names (Winbooks on Web) are the same in every language.
    values.update(preset.name for preset in PRESETS.values())
    for code, _name in settings.LANGUAGES:
        local_name = get_language_info(code)["name_local"]
        values.update({local_name, local_name.capitalize()})
    for model in apps.get_models():
        if not model.__module__.startswith("ledgerdrop."):
            continue
        fields = [
            f.name
            for f in model._meta.get_fields()
            if isinstance(f, models.CharField | models.EmailField) and not f.choices
        ]
        for row in model._default_manager.values_list(*fields) if fields else []:
            values.update(str(value) for value in row if value)
    return sorted(values, key=len, reverse=True)


def untranslated(texts: set[str], allowed: set[str], data: list[str]) -> set[str]:
    suspects = set()
    for text in texts - allowed:
        rest = CODES_AND_ADDRESSES.sub(" ", text)
        for value in data:
            rest = rest.replace(value, " ")
        for word in allowed:
            rest = rest.replace(word, " ")
        if re.search(r"[^\W\d_]{3,}", rest):
            suspects.add(text)
    return suspects


def openable_pages(world: World) -> list[tuple[User, str]]:
    chosen = []
    for page in pages():
        converters = {m["converter"] for m in PARAMETER.finditer(page.route)}
        if page.name in PUBLIC_PAGES or converters - {"int"}:
            continue
        owner = world.company_owner if "company_id" in page.route else world.firm_owner
        chosen.append((owner, page_url(world, page)))
    for public in ("/accounts/login/", "/signup/", "/signup/firm/", "/signup/company/",
                   "/accounts/password-reset/"):  # fmt: skip
        chosen.append((world.firm_owner, public))
    return chosen


def render(page: Page, user: User, url: str, language: str) -> set[str] | None:
    User.objects.filter(pk=user.pk).update(language=language)
    page.context.add_cookies(
        [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": page.url}]
    )
    probe = page.request.get(url, max_redirects=0)
    if probe.status != 200 or not probe.headers.get("content-type", "").startswith("text/html"):
        return None  # an action (POST only), a redirect or a download: no page to read
    page.goto(url)
    return set(page.evaluate(VISIBLE_TEXTS))


def test_dutch_and_english_pages_have_no_untranslated_strings(page: Page) -> None:
    world = victim_world()
    data = data_values()
    allowed = {"nl": identical_in_catalogue("nl"), "fr": identical_in_catalogue("fr")}
    findings: dict[str, set[str]] = {}
    signed_in: User | None = None
    rendered = 0
    for user, url in openable_pages(world):
        if user != signed_in:
            page.context.clear_cookies()
            sign_in(page, user.email)
            signed_in = user
        texts = {language: render(page, user, url, language) for language in LANGUAGES}
        if any(t is None for t in texts.values()):
            continue
        rendered += 1
        english = texts["en"]
        assert english is not None
        for language in ("nl", "fr"):
            other = texts[language]
            assert other is not None
            for text in untranslated(english & other, allowed[language], data):
                findings.setdefault(text, set()).add(f"{language} {url}")
    assert rendered >= 10
    report = [f"{text!r} in {sorted(where)}" for text, where in sorted(findings.items())]
    assert not report, "untranslated:\n" + "\n".join(report)
