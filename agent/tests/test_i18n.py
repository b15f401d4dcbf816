"""The downloader speaks French, Dutch or English: from the system's locale (on Windows its
display language), or `--lang`; every message of its catalogues is translated."""

from __future__ import annotations

import gettext
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from device_server import TOKEN, DeviceServer

from ledgerdrop_agent import i18n
from ledgerdrop_agent.cli import main
from ledgerdrop_agent.config import Credential, save_credential

INVOICE = b"<Invoice>langues</Invoice>"


def entries(po_file: Path) -> Iterator[tuple[str, list[str], bool]]:
    """(msgid, translations, fuzzy) of each entry of a catalogue, the header left out."""
    for entry in po_file.read_text(encoding="utf-8").split("\n\n"):
        lines = entry.splitlines()
        fuzzy = any(line.startswith("#,") and "fuzzy" in line for line in lines)
        body = "\n".join(line for line in lines if not line.startswith("#"))
        parts = re.split(r"^(msgid|msgid_plural|msgstr(?:\[\d\])?) ", body, flags=re.M)[1:]
        fields = {
            key: json.loads('"' + "".join(re.findall(r'"(.*)"', value)) + '"')
            for key, value in zip(parts[::2], parts[1::2], strict=True)
        }
        if fields.get("msgid"):
            translations = [value for key, value in fields.items() if key.startswith("msgstr")]
            yield fields["msgid"], translations, fuzzy


def catalogue(language: str) -> Path:
    return i18n.LOCALE_DIR / language / "LC_MESSAGES" / f"{i18n.DOMAIN}.po"


@pytest.mark.parametrize("language", ["fr", "nl"])
def test_every_message_has_a_translation(language: str) -> None:
    missing = [
        msgid
        for msgid, translations, fuzzy in entries(catalogue(language))
        if fuzzy or not all(translations)
    ]
    assert missing == []


@pytest.mark.parametrize("language", ["fr", "nl"])
def test_the_shipped_compiled_catalogues_say_what_the_catalogues_say(language: str) -> None:
    with catalogue(language).with_suffix(".mo").open("rb") as compiled:
        translations = gettext.GNUTranslations(compiled)
    stale = [
        msgid
        for msgid, texts, _fuzzy in entries(catalogue(language))
        if len(texts) == 1 and translations.gettext(msgid) != texts[0]
    ]
    assert stale == []


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"LANG": "fr_BE.UTF-8"}, "fr"),
        ({"LANG": "nl_BE.UTF-8", "LC_MESSAGES": "fr_FR.UTF-8"}, "fr"),
        ({"LANGUAGE": "de_DE:nl_BE", "LANG": "fr_BE.UTF-8"}, "nl"),
        ({"LC_ALL": "C", "LANG": "fr_BE.UTF-8"}, None),
        ({"LANG": "de_DE.UTF-8"}, None),
        ({}, None),
    ],
)
def test_the_language_comes_from_the_locale_variables(
    environ: dict[str, str], expected: str | None
) -> None:
    assert i18n.system_language(environ, windows_ui_language=lambda: None) == expected


@pytest.mark.parametrize(
    ("langid", "expected"), [(0x080C, "fr"), (0x0813, "nl"), (0x0409, "en"), (0x0407, None)]
)
def test_on_windows_the_display_language_comes_first(langid: int, expected: str | None) -> None:
    # 0x080C fr-BE, 0x0813 nl-BE, 0x0409 en-US, 0x0407 de-DE (then the variables decide).
    assert i18n.system_language({}, windows_ui_language=lambda: langid) == expected


@pytest.fixture
def paired(home: Path, server: DeviceServer) -> Path:
    save_credential(home, Credential(server.url, 5, TOKEN))
    return home


def test_run_says_in_french_what_it_does(
    paired: Path, server: DeviceServer, capsys: pytest.CaptureFixture[str]
) -> None:
    server.add("ACME01/achats/f1.xml", INVOICE)
    server.add("ACME01/achats/f2.xml", INVOICE + b"2")

    assert main(["--lang", "fr", "run", "--once"]) == 0

    out = capsys.readouterr().out
    assert f"Connexion à {server.url} en tant qu'appareil 5…" in out
    assert "Connecté. En attente de documents" in out
    assert "2 documents déposés." in out


def test_run_says_in_english_what_it_does_and_why_nothing_can_be_placed(
    paired: Path, server: DeviceServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server.root_folder = str(tmp_path / "no-drive" / "bob-demat")
    server.add("ACME01/achats/f1.xml", INVOICE)

    assert main(["run", "--once", "--lang", "en"]) == 1

    out = capsys.readouterr().out
    assert "Connected. Waiting for documents (Ctrl-C to stop)." in out
    assert "Nothing can be placed: the main folder" in out
    assert "1 document waits: the folder is missing; trying again." in out


def test_status_speaks_dutch_when_asked(
    paired: Path, server: DeviceServer, capsys: pytest.CaptureFixture[str]
) -> None:
    server.add("ACME01/achats/f1.xml", INVOICE)
    main(["run", "--once"])
    capsys.readouterr()

    assert main(["status", "--lang", "nl"]) == 0

    out = capsys.readouterr().out
    assert "Gekoppeld:" in out and "ja" in out
    assert "zonet" in out
    assert "Geplaatst:" in out


@pytest.mark.skipif(
    sys.platform == "win32", reason="on Windows the display language decides, not LANG"
)
def test_a_pairing_error_speaks_the_systems_language(home: Path, server: DeviceServer) -> None:
    server.token_answers = [(400, {"error": "invalid_grant"})]
    environ = {**os.environ, "LEDGERDROP_AGENT_HOME": str(home), "LANG": "fr_BE.UTF-8"}
    environ.pop("LC_ALL", None)
    environ.pop("LANGUAGE", None)

    result = subprocess.run(
        [sys.executable, "-m", "ledgerdrop_agent", "pair", "--server", server.url,
         "--enrolment-key", "used"],
        env=environ, capture_output=True, text=True, timeout=60,
    )  # fmt: skip

    assert result.returncode == 1
    assert "Échec de l'association : le serveur n'a pas accepté ce code" in result.stderr


def test_the_help_is_translated(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--lang", "nl", "run", "--help"])

    assert "plaatsen wat wacht, dan stoppen" in capsys.readouterr().out
