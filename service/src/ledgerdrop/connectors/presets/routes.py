"""Where a connection sends a document's files, and what they are called: its route (the
preset, the dossier's folders, the templates, the files it sends), checked when a connection
is saved and shown in the connection form's preview. Nothing here changes state."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from ledgerdrop.accounts.models import Dossier
from ledgerdrop.connectors.bob_demat.models import validate_dossier_code
from ledgerdrop.connectors.presets import naming
from ledgerdrop.connectors.presets.catalogue import (
    DEFAULT_FILE_TEMPLATE,
    DIRECTION_OF_KIND,
    Payload,
    Preset,
    preset_of,
)
from ledgerdrop.connectors.presets.models import Connection
from ledgerdrop.core import storage
from ledgerdrop.core.errors import Kind, ServiceError
from ledgerdrop.delivery import folders
from ledgerdrop.delivery.models import Device
from ledgerdrop.documents.models import Document


@dataclass(frozen=True)
class Route:
    """A connection's folders and file names, before or after it is saved."""

    preset: Preset
    dossier: Dossier
    dossier_code: str
    path_template: str
    file_template: str
    direction_words: Mapping[str, str]
    payload: Payload

    @classmethod
    def of(cls, connection: Connection) -> Route:
        return cls(
            preset=preset_of(connection.app),
            dossier=connection.dossier,
            dossier_code=connection.dossier_code,
            path_template=connection.path_template,
            file_template=connection.file_template,
            direction_words=connection.direction_words,
            payload=Payload(connection.payload),
        )

    def facts(self, *, kind: str, number: str, issue_date: dt.date, id: int) -> naming.Facts:
        company = self.dossier.company
        direction = DIRECTION_OF_KIND[kind]
        return naming.Facts(
            dossier_code=self.dossier_code,
            enterprise_number=naming.enterprise_number(company.vat_number),
            vat_number=company.vat_number.replace(" ", "").replace(".", "").upper(),
            company_name=company.name,
            direction=self.direction_words.get(direction)
            or self.preset.direction_words.get(direction, direction),
            kind=self.preset.kind_words.get(kind, kind),
            issue_date=issue_date,
            number=number,
            id=id,
        )

    def suffixes(self) -> list[tuple[str, str]]:
        """The parts of a document this connection sends, with their extension."""
        return {
            Payload.UBL: [("ubl", ".xml")],
            Payload.UBL_AND_PDF: [("ubl", ".xml"), ("pdf", ".pdf")],
            Payload.PDF: [("pdf", ".pdf")],
        }[self.payload]

    def paths(self, facts: naming.Facts) -> list[tuple[str, str]]:
        """(part, relative path) of each file of a document."""
        return [
            (part, naming.relative_path(self.path_template, self.file_template, facts, suffix))
            for part, suffix in self.suffixes()
        ]

    def folders(self, on: dt.date) -> set[str]:
        """The dossier folder's sub-folders every kind of document goes to, dated `on`."""
        return {
            naming.relative_folder(
                self.path_template, self.facts(kind=kind, number="", issue_date=on, id=0)
            )
            for kind in DIRECTION_OF_KIND
        }


# The samples of the connection form's preview.
SAMPLES = (
    (Document.Kind.SALES_INVOICE, "2026-0042"),
    (Document.Kind.CREDIT_NOTE, "NC-2026-0007"),
    (Document.Kind.PURCHASE_INVOICE, "F-88120"),
    (Document.Kind.PURCHASE_SLIP, "BA-2026-0003"),
)


@dataclass(frozen=True)
class SamplePath:
    kind: str
    kind_label: str
    paths: list[str]


def build(
    dossier: Dossier,
    preset: Preset,
    *,
    dossier_code: str | None = None,
    path_template: str | None = None,
    file_template: str | None = None,
    direction_words: Mapping[str, str] | None = None,
    payload: str | None = None,
    base: Connection | None = None,
) -> Route:
    """A route from the fields given, the connection's for the others, then the preset's."""
    code = dossier_code if dossier_code is not None else (base.dossier_code if base else "")
    route = Route(
        preset=preset,
        dossier=dossier,
        dossier_code=code.strip(),
        path_template=(
            path_template
            if path_template is not None
            else (base.path_template if base else preset.path_template)
        ).strip(),
        file_template=(
            file_template
            if file_template is not None
            else (base.file_template if base else DEFAULT_FILE_TEMPLATE)
        ).strip(),
        direction_words={
            key: word.strip()
            for key, word in (
                direction_words
                if direction_words is not None
                else (base.direction_words if base else {})
            ).items()
            if key in DIRECTION_OF_KIND.values() and word.strip()
        },
        payload=payload_of(payload if payload is not None else (base.payload if base else None)),
    )
    _check_route(route)
    return route


def payload_of(value: str | None) -> Payload:
    try:
        return Payload(value) if value else Payload.UBL
    except ValueError as exc:
        raise ServiceError(
            "invalid_payload",
            _("Choose the files to send: %(choices)s.")
            % {"choices": ", ".join(payload.value for payload in Payload)},
            Kind.INVALID,
        ) from exc


def _check_route(route: Route) -> None:
    naming.check_templates(route.path_template, route.file_template)
    uses_code = "{dossier_code}" in route.path_template + route.file_template
    if uses_code or route.dossier_code:
        try:
            validate_dossier_code(route.dossier_code)
        except ValidationError as exc:
            raise ServiceError(
                "invalid_dossier_code", " ".join(exc.messages), Kind.INVALID
            ) from exc
    for word in route.direction_words.values():
        naming.check_word(word)
    # Every kind must give a good path: a sample of each.
    for kind, number in SAMPLES:
        route.paths(route.facts(kind=kind, number=number, issue_date=dt.date(2026, 12, 31), id=1))


def preview(
    dossier: Dossier,
    app: str,
    *,
    main_folder: str,
    connection: Connection | None = None,
    dossier_code: str | None = None,
    path_template: str | None = None,
    file_template: str | None = None,
    direction_words: Mapping[str, str] | None = None,
    payload: str | None = None,
) -> list[SamplePath]:
    """The full paths, on the device's main folder, of a sample sales invoice, credit note,
    purchase invoice and purchase slip of the dossier, with the fields given (the
    connection's, else the preset's, for the others)."""
    route = build(
        dossier, preset_of(app), base=connection, dossier_code=dossier_code,
        path_template=path_template, file_template=file_template,
        direction_words=direction_words, payload=payload,
    )  # fmt: skip
    return _sample_paths(route, main_folder)


def _samples(route: Route) -> list[tuple[Document.Kind, naming.Facts]]:
    today = timezone.localdate()
    return [
        (kind, route.facts(kind=kind, number=number, issue_date=today, id=1000 + sequence))
        for sequence, (kind, number) in enumerate(SAMPLES, start=1)
    ]


def _sample_paths(route: Route, main_folder: str) -> list[SamplePath]:
    return [
        SamplePath(
            kind=kind.value,
            kind_label=str(kind.label),
            paths=[naming.full_path(main_folder, path) for _part, path in route.paths(facts)],
        )
        for kind, facts in _samples(route)
    ]


def check_fits_on_devices(route: Route, devices: Iterable[Device]) -> None:
    """The preview's check on the main folder of every device that will receive the files: a
    path Windows cannot open is refused when the connection is saved, not found out when the
    downloader fails to place a file."""
    for device in devices:
        _sample_paths(route, device.root_folder)


def too_long_below(route: Route, main_folder: str) -> str | None:
    """The longest sample path below `main_folder` when Windows could not open it: the same
    samples as the preview's, so that a main folder is refused exactly when saving the
    connection on it would be."""
    longest = max(
        (
            folders.on_device(main_folder, path)
            for _kind, facts in _samples(route)
            for _part, path in route.paths(facts)
        ),
        key=len,
    )
    return longest if folders.too_long_for_windows(main_folder, longest) else None


def blob(document: Document, part: str) -> storage.Blob:
    if part == "pdf":
        return storage.Blob(sha256=document.pdf_sha256, size=document.pdf_size)
    return storage.Blob(sha256=document.ubl_sha256, size=document.ubl_size)
