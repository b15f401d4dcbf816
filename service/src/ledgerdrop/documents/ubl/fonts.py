"""The typeface every PDF is set in, embedded so that any reader shows the same letters.

The PDF standard fonts (Helvetica) cover Western European letters only: a Polish, Czech,
Greek or Bulgarian name printed in them comes out as boxes. Fira Sans (SIL Open Font Licence
1.1, from the `fontpkg-fira-sans` package) covers Latin Extended, Greek and Cyrillic in static
regular and bold cuts; ReportLab embeds the glyphs used, with a ToUnicode map, so the text
can be copied and searched.
"""

from __future__ import annotations

import unicodedata
from functools import cache

import fontpkg
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

__all__ = ["BOLD", "REGULAR", "printable", "register"]

REGULAR = "LedgerdropSans"
BOLD = "LedgerdropSans-Bold"
FAMILY = "Fira Sans"

# Characters the font lacks whose Unicode compatibility form it lacks too.
_LOOKALIKES = {
    "\u2010": "-",  # hyphen
    "\u2011": "-",  # non-breaking hyphen
    "\u202f": "\u00a0",  # narrow no-break space (French thousands)
    "\u2007": "\u00a0",  # figure space
}


@cache
def register() -> None:
    """Make the two cuts known to ReportLab (once per process; a few milliseconds)."""
    pdfmetrics.registerFont(TTFont(REGULAR, str(fontpkg.path(FAMILY, 400))))
    pdfmetrics.registerFont(TTFont(BOLD, str(fontpkg.path(FAMILY, 700))))
    pdfmetrics.registerFontFamily(REGULAR, normal=REGULAR, bold=BOLD)


@cache
def _covered() -> frozenset[int]:
    register()
    font = pdfmetrics.getFont(REGULAR)
    return frozenset(font.face.charToGlyph)


def _printable_char(char: str) -> str:
    covered = _covered()
    if ord(char) in covered or char in "\n\t":
        return char
    if char in _LOOKALIKES:
        return _LOOKALIKES[char]
    # A typographic variant the font lacks (non-breaking hyphen, narrow no-break space,
    # ligatures, full-width letters) has a compatibility form that reads the same.
    compatible = unicodedata.normalize("NFKC", char)
    if compatible != char and all(ord(c) in covered for c in compatible):
        return compatible
    return char


def printable(text: str) -> str:
    """`text` with each character the font lacks replaced by one that reads the same, where
    Unicode defines one. Scripts outside the font (Chinese, emoji) stay as they are."""
    covered = _covered()
    if all(ord(char) in covered for char in text):
        return text
    return "".join(_printable_char(char) for char in text)
