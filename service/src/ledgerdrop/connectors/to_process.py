"""The documents to process of every connector, by app id. The API's one list
(`GET /firms/{fid}/documents-to-process?app=`) is BOB Demat's, yet it names no other connector:
each registers its own lists here from its `AppConfig.ready()` (core.registries). It lives
beside the connectors, not in one of them, so that the others register into it without
importing BOB Demat."""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import QuerySet

from ledgerdrop.accounts.models import Dossier, Organisation
from ledgerdrop.core.registries import Registry
from ledgerdrop.documents.models import Document

# The firm's documents that the app has still to send, optionally of one dossier or one kind.
DocumentsToProcess = Callable[[Organisation, Dossier | None, str | None], QuerySet[Document]]

DOCUMENTS_TO_PROCESS: Registry[DocumentsToProcess] = Registry("connectors.documents_to_process")
