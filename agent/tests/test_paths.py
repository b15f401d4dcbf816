from __future__ import annotations

import pytest

from ledgerdrop_agent.placer import UnsafePathError, check_relative_path

SAFE = [
    "ACME01/achats/2024-03-01 F-2024-0001.xml",
    "ACME01/ventes/2024-03-01_NC-7 (copie).xml",
    "Société Générale/achats/facture été.xml",
    "Müller-Lüdenscheid/ventes/Øresund Æble.xml",
    "a",
    "ACME01/achats",
    "CONSOLE/achats/console.xml",  # only the exact reserved names are reserved
    "COM10/LPT0.xml",
    "x" * 120 + "/f.xml",
]

HOSTILE = [
    ("", "empty"),
    ("../outside.xml", "parent"),
    ("ACME01/../../etc/passwd", "parent inside"),
    ("ACME01/achats/..", "parent at the end"),
    ("./ACME01/achats/f.xml", "dot segment"),
    ("ACME01/./f.xml", "dot segment inside"),
    ("ACME01//f.xml", "empty segment"),
    ("ACME01/achats/", "trailing slash"),
    ("/etc/passwd", "absolute POSIX"),
    ("C:/bob-demat/f.xml", "drive with slash"),
    ("C:f.xml", "drive-relative"),
    ("c:\\bob-demat\\f.xml", "drive with backslashes"),
    ("\\\\server\\share\\f.xml", "UNC"),
    ("//server/share/f.xml", "UNC with slashes"),
    ("\\\\?\\C:\\f.xml", "extended-length path"),
    ("ACME01\\achats\\f.xml", "backslash separators"),
    ("ACME01/achats\\..\\..\\f.xml", "backslash traversal"),
    ("CON", "reserved device"),
    ("ACME01/con.xml", "reserved with extension, any case"),
    ("ACME01/Nul.tar.gz", "reserved with two extensions"),
    ("ACME01/COM1.xml", "COM port"),
    ("ACME01/lpt9", "LPT port"),
    ("ACME01/AUX .xml", "reserved followed by a space"),
    ("PRN/achats/f.xml", "reserved folder"),
    ("ACME01/achats/f.xml.", "trailing dot"),
    ("ACME01/achats/f.xml ", "trailing space"),
    ("ACME01 /achats/f.xml", "folder with trailing space"),
    ("ACME01/achats/ f.xml", "leading space"),
    ("ACME01/.ledgerdrop-staging/f.xml", "into the staging folder"),
    (".hidden/f.xml", "hidden folder"),
    ("ACME01/achats/f.xml:Zone.Identifier", "alternate data stream"),
    ("ACME01/achats/f<1>.xml", "angle brackets"),
    ("ACME01/achats/f|x.xml", "pipe"),
    ("ACME01/achats/f?.xml", "question mark"),
    ("ACME01/achats/f*.xml", "star"),
    ('ACME01/achats/"f".xml', "quotes"),
    ("ACME01/achats/f\x00.xml", "NUL byte"),
    ("ACME01/achats/f\n.xml", "newline"),
    ("ACME01/achats/f\u202egpj.exe", "right-to-left override"),
    ("ACME01/achats/e\u0301te.xml", "decomposed accent (not NFC)"),
    ("ACME01/achats/f\u00a0.xml", "no-break space"),
    ("ACME01/achats/f\uff0f.xml", "fullwidth slash"),
    ("ACME01/achats/COM\u00b9.xml", "superscript digit"),
    ("ACME01/achats/%2e%2e.xml", "percent-encoding"),
    ("~/f.xml", "home"),
    ("$HOME/f.xml", "variable"),
    ("ACME01/" + "x" * 121, "segment too long"),
    ("/".join(["abcdefghij"] * 19), "path too long"),
]


@pytest.mark.parametrize("path", SAFE)
def test_ordinary_dossier_paths_are_accepted(path: str) -> None:
    assert check_relative_path(path) == tuple(path.split("/"))


@pytest.mark.parametrize(("path", "why"), HOSTILE, ids=[why for _, why in HOSTILE])
def test_hostile_paths_are_refused(path: str, why: str) -> None:
    with pytest.raises(UnsafePathError) as refused:
        check_relative_path(path)
    assert refused.value.reason == "unsafe_path"
    assert refused.value.permanent
