"""The page every rendition prints on: A4 with 15 mm margins, in the embedded font."""

from __future__ import annotations

from typing import BinaryIO

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import SimpleDocTemplate

from . import fonts


def a4_document(
    out: BinaryIO, *, title: str, author: str, bottom_margin: float = 15 * mm
) -> SimpleDocTemplate:
    fonts.register()
    return SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=bottom_margin,
        title=title,
        author=author,
        # Same data, same bytes: the delivery layer compares files by checksum.
        invariant=True,
        initialFontName=fonts.REGULAR,
    )
