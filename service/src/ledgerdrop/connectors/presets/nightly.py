"""The package connectors' nightly automatic transfer in SQL: which documents of a batch of
connections go tonight (BOB Demat's rules, `eligibility.automatic_sql`), in one SELECT whatever
their number, the statements that queue their files through `delivery`, and the bulk inserts
of e-mail presets' messages. `services.run_autosend` runs them, a transaction per batch.

A connection's folder and file name come from its own templates (any of a dozen variables, a
company name made Windows-safe, the checks of `naming`): they are filled in Python by the very
code a hand-sent copy goes through, so the night cannot name a file differently. Only the
inserts are set-based: the files reach `delivery.services.queue_selected` as one JSON list.

The statements are put together from table names and placeholders only; every value is a
parameter (hence the `noqa: S608`)."""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections import Counter
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, NamedTuple

from django.db import connection as db

from ledgerdrop.accounts.models import Dossier
from ledgerdrop.connectors.bob_demat import eligibility
from ledgerdrop.connectors.presets import mail
from ledgerdrop.connectors.presets.catalogue import Payload
from ledgerdrop.connectors.presets.models import Connection, Message, Shipment
from ledgerdrop.connectors.presets.routes import Route
from ledgerdrop.core.errors import ServiceError
from ledgerdrop.delivery import services as delivery_services
from ledgerdrop.delivery.models import Device
from ledgerdrop.delivery.wakeups import wake_on_commit
from ledgerdrop.documents.models import Document

logger = logging.getLogger(__name__)

# The order a night's documents are queued in, per connection: as one at a time did.
ORDER = "connection_id, source_id"
# Messages (and their shipments) per INSERT: SQLite takes at most 32,766 parameters a statement.
MESSAGES_PER_STATEMENT = 1000


class Candidate(NamedTuple):
    """A document the rules send tonight through a connection, with what its files and its
    message need (read as plain values: a model instance per document costs more)."""

    connection_id: int
    id: int
    kind: str
    number: str
    issue_date: dt.date
    company_id: int
    ubl_sha256: str
    ubl_size: int
    pdf_sha256: str
    pdf_size: int
    total: Decimal
    currency: str


class File(NamedTuple):
    """One file to queue: a row of the VALUES list `picked` reads."""

    connection_id: int
    firm_id: int
    device_id: int
    source_id: int
    company_id: int
    relative_path: str
    sha256: str
    size: int


def _table(model: type) -> str:
    return db.ops.quote_name(model._meta.db_table)  # type: ignore[attr-defined]


def _date(value: dt.date | str) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


def _amount(value: Decimal | float | int | str) -> Decimal:
    """An amount as the ORM reads it (SQLite keeps 12.50 as 12.5)."""
    places = Document._meta.get_field("total").decimal_places
    return Decimal(str(value)).quantize(Decimal(1).scaleb(-places))


def candidates(connection_ids: list[int], on: dt.date) -> list[Candidate]:
    """The documents the rules choose tonight for these connections, dated from each one's
    start, with the files its payload needs, never sent through it: by connection, then in
    date order."""
    rules, rules_params = eligibility.automatic_sql("d")
    ids = ", ".join(["%s"] * len(connection_ids))
    sql = (
        "SELECT c.id, d.id, d.kind, d.number, d.issue_date, d.company_id, d.ubl_sha256,"  # noqa: S608
        " d.ubl_size, d.pdf_sha256, d.pdf_size, d.total, d.currency"
        f" FROM {_table(Connection)} c"
        f" JOIN {_table(Dossier)} ds ON ds.id = c.dossier_id"
        f" JOIN {_table(Document)} d ON d.company_id = ds.company_id"
        f" WHERE c.id IN ({ids}) AND d.issue_date >= c.start_date AND d.issue_date <= %s"
        f" AND {rules}"
        " AND (c.payload = %s OR d.ubl_sha256 <> '') AND (c.payload = %s OR d.pdf_sha256 <> '')"
        f" AND NOT EXISTS (SELECT 1 FROM {_table(Shipment)} s"
        "  WHERE s.connection_id = c.id AND s.document_id = d.id)"
        " ORDER BY c.id, d.issue_date, d.id"
    )
    params = [
        *connection_ids,
        db.ops.adapt_datefield_value(on),
        *rules_params,
        Payload.PDF.value,
        Payload.UBL.value,
    ]
    with db.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [
        Candidate._make((*row[:4], _date(row[4]), *row[5:10], _amount(row[10]), row[11]))
        for row in rows
    ]


def picked(files: Sequence[File]) -> tuple[str, list[Any]]:
    """The SELECT `queue_selected` reads: the files as one JSON parameter (a VALUES list of a
    parameter each costs more to send than to insert, and SQLite takes 32,766 at most)."""
    rows = json.dumps([list(file) for file in files])
    if db.vendor == "postgresql":
        types = dict.fromkeys(File._fields, "bigint") | {"relative_path": "text", "sha256": "text"}
        columns = ", ".join(
            f"(f.value->>{n})::{types[name]} AS {name}" for n, name in enumerate(File._fields)
        )
        return f"SELECT {columns} FROM jsonb_array_elements(%s::jsonb) f", [rows]  # noqa: S608
    columns = ", ".join(
        f"json_extract(f.value, '$[{n}]') AS {name}" for n, name in enumerate(File._fields)
    )
    return f"SELECT {columns} FROM json_each(%s) f", [rows]  # noqa: S608


def link(part: str, origin: str, at: dt.datetime) -> tuple[str, list[Any]]:
    """Each new delivery's shipment. A batch queues one part at a time and holds one connection
    per dossier of a firm (one package), so a firm and a document name one row of `picked`;
    the unique first shipment per connection, document and part is what makes a second run,
    or a hand-sent copy in between, fail instead of queueing a file twice."""
    sql = (
        f"INSERT INTO {_table(Shipment)}"  # noqa: S608
        " (connection_id, document_id, part, delivery_id, origin, created_at)"
        " SELECT picked.connection_id, queued.source_id, %s, queued.id, %s, %s"
        " FROM queued JOIN picked"
        " ON picked.source_id = queued.source_id AND picked.firm_id = queued.firm_id"
        " RETURNING connection_id AS link_key"
    )
    return sql, [part, origin, db.ops.adapt_datetimefield_value(at)]


def queue_files(
    batch: Sequence[tuple[Connection, Device | None]], tonight: list[Candidate], at: dt.datetime
) -> tuple[Counter[object], int]:
    """Queue the files of the night's documents, named as a hand-sent copy is named; returns
    the files queued per connection, and how many documents no file name could be given."""
    routes = {connection.pk: (Route.of(connection), device) for connection, device in batch}
    by_part: dict[str, list[File]] = {}
    refused = 0
    for candidate in tonight:
        route, device = routes[candidate.connection_id]
        assert device is not None  # a folder preset's batch
        facts = route.facts(
            kind=candidate.kind, number=candidate.number, issue_date=candidate.issue_date,
            id=candidate.id,
        )  # fmt: skip
        try:
            paths = route.paths(facts)
        except ServiceError as exc:
            # A number that makes a reserved or too long name: left for the accountant.
            logger.warning("document=%d not sent automatically: %s", candidate.id, exc)
            refused += 1
            continue
        for part, path in paths:
            sha256, size = (
                (candidate.pdf_sha256, candidate.pdf_size)
                if part == "pdf"
                else (candidate.ubl_sha256, candidate.ubl_size)
            )
            by_part.setdefault(part, []).append(
                File(
                    connection_id=candidate.connection_id,
                    firm_id=device.firm_id,
                    device_id=device.pk,
                    source_id=candidate.id,
                    company_id=candidate.company_id,
                    relative_path=path,
                    sha256=sha256,
                    size=size,
                )
            )
    queued: Counter[object] = Counter()
    for part, files in by_part.items():
        selected, params = picked(files)
        linked, link_params = link(part, Shipment.Origin.AUTOMATIC, at)
        queued += delivery_services.queue_selected(
            selected, params, source=Document, at=at, order_by=ORDER,
            link=linked, link_params=link_params,
        )  # fmt: skip
    # One wake-up per device that has new files, for the whole batch, once it commits.
    for device_id in {file.device_id for files in by_part.values() for file in files}:
        wake_on_commit(device_id)
    return queued, refused


def insert_messages(
    batch: Sequence[tuple[Connection, Device | None]], tonight: list[Candidate], at: dt.datetime
) -> tuple[Counter[object], list[int]]:
    """The night's messages, as a hand-sent copy's are written, inserted in bulk; returns the
    messages per connection, and their ids (for their sending tasks)."""
    connections = {
        connection.pk: connection
        for connection in Connection.objects.filter(
            pk__in=[connection.pk for connection, _device in batch]
        ).select_related("firm", "dossier__company")
    }
    messages, shipments = [], []
    for candidate in tonight:
        connection = connections[candidate.connection_id]
        message = mail.new_message(
            connection, kind=candidate.kind, number=candidate.number,
            issue_date=candidate.issue_date, total=candidate.total, currency=candidate.currency,
        )  # fmt: skip
        message.queued_at = at
        messages.append(message)
        shipment = Shipment(
            connection=connection, document_id=candidate.id, part="email",
            origin=Shipment.Origin.AUTOMATIC,
        )  # fmt: skip
        shipments.append(shipment)
    Message.objects.bulk_create(messages, batch_size=MESSAGES_PER_STATEMENT)
    for shipment, message in zip(shipments, messages, strict=True):
        shipment.message = message
    Shipment.objects.bulk_create(shipments, batch_size=MESSAGES_PER_STATEMENT)
    return (
        Counter(shipment.connection_id for shipment in shipments),
        [message.pk for message in messages],
    )
