from __future__ import annotations

import gettext
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from ledgerdrop.accounts.models import User
from tests import builders

LOCALE = Path(settings.LOCALE_PATHS[0])


def entries(po_file: Path) -> Iterator[tuple[str, list[str], bool]]:
    """(msgid, translations, fuzzy) of each entry of a catalogue, header and obsolete left out.
    An entry with a context has the msgid "context\x04msgid", as gettext stores it."""
    for entry in po_file.read_text().split("\n\n"):
        lines = entry.splitlines()
        flags = " ".join(line for line in lines if line.startswith("#,"))
        body = "\n".join(line for line in lines if not line.startswith("#"))
        parts = re.split(r"^(msgctxt|msgid|msgid_plural|msgstr(?:\[\d\])?) ", body, flags=re.M)[1:]
        fields = {
            key: "".join(re.findall(r'"(.*)"', value))
            for key, value in zip(parts[::2], parts[1::2], strict=True)
        }
        if fields.get("msgid"):
            translations = [value for key, value in fields.items() if key.startswith("msgstr")]
            context = fields["msgctxt"] + "\\u0004" if "msgctxt" in fields else ""
            yield context + fields["msgid"], translations, "fuzzy" in flags


def catalogue(language: str) -> Path:
    return LOCALE / language / "LC_MESSAGES" / "django.po"


@pytest.mark.parametrize("language", ["fr", "nl"])
def test_every_message_has_a_translation(language: str) -> None:
    """A fuzzy entry is a guess that gettext does not use: it counts as missing."""
    missing = [
        msgid
        for msgid, translations, fuzzy in entries(catalogue(language))
        if fuzzy or not translations or not all(translations)
    ]
    assert missing == []


@pytest.mark.parametrize("language", ["fr", "nl"])
def test_the_compiled_catalogues_say_what_the_catalogues_say(language: str) -> None:
    compiled = catalogue(language).with_suffix(".mo")
    with compiled.open("rb") as mo:
        translations = gettext.GNUTranslations(mo)
    stale = [
        msgid
        for msgid, texts, fuzzy in entries(catalogue(language))
        if len(texts) == 1 and texts[0] and not fuzzy
        and translations.gettext(_unescape(msgid)) != _unescape(texts[0])
    ]  # fmt: skip
    assert stale == []


def _unescape(text: str) -> str:
    """The escapes of a .po string (\\", \\n, \\\\) are those of JSON."""
    unescaped: str = json.loads(f'"{text}"')
    return unescaped


@pytest.mark.django_db
def test_french_is_the_default_for_a_browser_that_asks_for_nothing(client: Client) -> None:
    page = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="")

    assert '<html lang="fr">' in page.content.decode()
    assert "Se connecter" in page.content.decode()


@pytest.mark.django_db
def test_the_chosen_language_is_remembered_for_the_person_on_any_browser(client: Client) -> None:
    person = builders.user("kevin@fidu.be")
    firm = builders.firm(owner=person)
    client.force_login(person)

    client.post("/language/", {"language": "nl", "next": f"/firms/{firm.pk}/dossiers/"})
    other_browser = Client(HTTP_ACCEPT_LANGUAGE="en")
    other_browser.force_login(person)
    page = other_browser.get(f"/firms/{firm.pk}/dossiers/").content.decode()

    assert User.objects.get(pk=person.pk).language == "nl"
    assert '<html lang="nl">' in page
    assert "Downloadtoestellen" in page


@pytest.mark.django_db
def test_the_language_switcher_sends_back_only_to_this_site(client: Client) -> None:
    response = client.post("/language/", {"language": "en", "next": "https://evil.example/"})

    assert response["Location"] == "/"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"


@pytest.mark.django_db
def test_the_api_changes_the_remembered_language(client: Client) -> None:
    person = builders.user("kevin@fidu.be")
    client.force_login(person)

    response = client.patch("/api/v1/me", {"language": "en"}, content_type="application/json")

    assert response.json()["language"] == "en"
    assert User.objects.get(pk=person.pk).language == "en"
