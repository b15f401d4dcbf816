"""The nightly automatic transfer in SQL: which documents of a batch of connections go tonight,
where, and under what name — the rules of `eligibility` and the names of `naming`, for every
document of the batch in one statement (a night may bring a million documents).

The statements are put together from table names and placeholders only; every value is a
parameter (hence the `noqa: S608`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection as db

from ledgerdrop.accounts.models import Dossier
from ledgerdrop.connectors.bob_demat import eligibility, naming
from ledgerdrop.connectors.bob_demat.models import DematConnection, DematSettings, Transmission
from ledgerdrop.documents.models import Document

# The order a device is offered a night's documents in: by dossier, then by document. BOB
# imports by file name, which starts with the date, so the order of the offers does not matter
# to it; the order of the indexes does to PostgreSQL (a quarter faster than by date).
ORDER = "connection_id, source_id"


def _table(model: type) -> str:
    return db.ops.quote_name(model._meta.db_table)  # type: ignore[attr-defined]


def _file_name() -> tuple[str, list[Any]]:
    """`naming.file_name` in SQL: `<date>_<kind>_<number>_<id>.xml`, the number made safe the
    same way (PostgreSQL's regexp_replace; core.database gives SQLite one)."""
    date = (
        "to_char(d.issue_date, 'YYYYMMDD')"
        if db.vendor == "postgresql"
        else "strftime('%%Y%%m%%d', d.issue_date)"
    )
    number = (
        "COALESCE(NULLIF(substr(rtrim(ltrim(regexp_replace(d.number, %s, '-', 'g'), '-'), '-'),"
        " 1, 40), ''), 'sans-numero')"
    )
    sql = f"{date} || '_' || d.kind || '_' || {number} || '_' || CAST(d.id AS TEXT) || '.xml'"
    return sql, [naming.UNSAFE_PATTERN]


def _relative_path() -> tuple[str, list[Any]]:
    sales = sorted(Document.SALES_KINDS)
    folder = f"CASE WHEN d.kind IN ({', '.join(['%s'] * len(sales))}) THEN %s ELSE %s END"
    name, name_params = _file_name()
    return (
        f"c.dossier_code || '/' || {folder} || '/' || {name}",
        [*sales, naming.SALES_FOLDER, naming.PURCHASES_FOLDER, *name_params],
    )


def _documents_of(
    connection_ids: list[int], on: dt.date, *, refused: bool
) -> tuple[str, list[Any]]:
    """FROM and WHERE of the documents the rules choose tonight for these connections, not yet
    transmitted through them: those that can go (a UBL file), or those that cannot."""
    rules, rules_params = eligibility.automatic_sql("d")
    ids = ", ".join(["%s"] * len(connection_ids))
    sql = (
        f" FROM {_table(DematConnection)} c"  # noqa: S608
        f" JOIN {_table(Dossier)} ds ON ds.id = c.dossier_id"
        f" JOIN {_table(DematSettings)} s ON s.firm_id = c.firm_id"
        f" JOIN {_table(Document)} d ON d.company_id = ds.company_id"
        f" WHERE c.id IN ({ids}) AND d.issue_date >= c.start_date AND d.issue_date <= %s"
        f" AND {rules} AND d.ubl_sha256 {'=' if refused else '<>'} ''"
        f" AND NOT EXISTS (SELECT 1 FROM {_table(Transmission)} t"
        "  WHERE t.connection_id = c.id AND t.document_id = d.id)"
    )
    return sql, [*connection_ids, db.ops.adapt_datefield_value(on), *rules_params]


def picked(connection_ids: list[int], on: dt.date) -> tuple[str, list[Any]]:
    """The SELECT `delivery.services.queue_selected` queues: one row per document that goes,
    to the connection's device, else the firm's default device."""
    path, path_params = _relative_path()
    where, where_params = _documents_of(connection_ids, on, refused=False)
    sql = (
        "SELECT c.id AS connection_id, c.firm_id AS firm_id,"
        " COALESCE(c.device_id, s.default_device_id) AS device_id,"
        " d.id AS source_id, d.company_id AS company_id,"
        f" {path} AS relative_path, d.ubl_sha256 AS sha256, d.ubl_size AS size,"
        " d.issue_date AS issue_date" + where
    )
    return sql, [*path_params, *where_params]


def link(origin: str, at: dt.datetime) -> tuple[str, list[Any]]:
    """Each new delivery's transmission: the unique (connection, document) pair is what makes a
    second run, or a hand-sent copy in between, fail instead of queueing a document twice. The
    connection is the one of the delivery's (firm, company) — one dossier per pair, one
    connection per dossier —: a lookup in two small tables rather than a join of the batch's
    deliveries with what was picked (two sorts of 50,000 rows)."""
    sql = (
        f"INSERT INTO {_table(Transmission)}"  # noqa: S608
        " (connection_id, document_id, first_delivery_id, origin, created_at)"
        " SELECT c.id, queued.source_id, queued.id, %s, %s FROM queued"
        f" JOIN {_table(Dossier)} ds"
        "  ON ds.firm_id = queued.firm_id AND ds.company_id = queued.company_id"
        f" JOIN {_table(DematConnection)} c ON c.dossier_id = ds.id"
        " RETURNING connection_id AS link_key"
    )
    return sql, [origin, db.ops.adapt_datetimefield_value(at)]


def refused_counts(connection_ids: list[int], on: dt.date) -> dict[int, int]:
    """Per connection, the documents the rules choose that cannot go (no UBL file yet)."""
    where, params = _documents_of(connection_ids, on, refused=True)
    with db.cursor() as cursor:
        cursor.execute(f"SELECT c.id, COUNT(*){where} GROUP BY c.id", params)
        return dict(cursor.fetchall())
