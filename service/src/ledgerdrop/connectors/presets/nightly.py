"""The package connectors' nightly automatic transfer in SQL: which documents of a batch of
connections go tonight (BOB Demat's rules, `eligibility.automatic_sql`), in one SELECT whatever
their number, and the statements that queue their files through `delivery`.

A connection's folder and file name come from its own templates (any of a dozen variables, a
company name made Windows-safe, the checks of `naming`): they are filled in Python by the very
code a hand-sent copy goes through, so the night cannot name a file differently. Only the
inserts are set-based: the files reach `delivery.services.queue_selected` as one JSON list.

The statements are put together from table names and placeholders only; every value is a
parameter (hence the `noqa: S608`)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, NamedTuple

from django.db import connection as db

from ledgerdrop.accounts.models import Dossier
from ledgerdrop.connectors.bob_demat import eligibility
from ledgerdrop.connectors.presets.catalogue import Payload
from ledgerdrop.connectors.presets.models import Connection, Shipment
from ledgerdrop.documents.models import Document

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
