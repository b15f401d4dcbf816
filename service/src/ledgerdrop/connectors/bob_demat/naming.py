"""Where a document goes in the BOB Demat folders, and under what name.

BOB imports files in name order, so names start with the issue date; the document id makes the
name unique and stable when the document is sent again; no year in any folder path."""

from __future__ import annotations

import re

from ledgerdrop.documents.models import Document

SALES_FOLDER = "ventes"
PURCHASES_FOLDER = "achats"

# What a number may keep in a file name; the rest becomes "-" (here and in nightly.py's SQL).
UNSAFE_PATTERN = "[^A-Za-z0-9_-]+"
_UNSAFE = re.compile(UNSAFE_PATTERN)


def folder_for(document: Document) -> str:
    return SALES_FOLDER if document.is_sales else PURCHASES_FOLDER


def file_name(document: Document) -> str:
    number = _UNSAFE.sub("-", document.number).strip("-")[:40] or "sans-numero"
    return f"{document.issue_date:%Y%m%d}_{document.kind}_{number}_{document.pk}.xml"


def relative_path(dossier_code: str, document: Document) -> str:
    return f"{dossier_code}/{folder_for(document)}/{file_name(document)}"
