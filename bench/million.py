"""The night of a million documents: the nightly automatic transfer over 1,000,000 eligible
documents (10,000 dossiers × 100) on PostgreSQL, and the pages that list them.

The peer, in the same run: a plain `INSERT … SELECT` of the same rows into the deliveries
(the same SELECT, one statement, no record of the transmission, no audit, no wake-up; its
foreign keys checked in the statement, then rolled back). Pages are timed through Django's
test client (the whole middleware stack, the template or the JSON), median of several
requests: *Documents à traiter* of the firm that has the 10,000 dossiers, its first page and
one deep in the list, before and after the night, and a client's document list (page and API)
for a client with 100,000 documents of its own.

The data is made in SQL, set-based: one firm, company, connection and document are made by the
real services, then copied by `INSERT … SELECT … FROM generate_series` (a million builders
would take an hour). Besides the eligible million, each dossier has 10 documents the rules
leave out (drafts, unapproved purchases, sales not yet sent), and the big client's 100,000
documents are connected without automatic transfer: they stay to process after the night.

    scripts/with-postgres.sh uv run python bench/million.py [--dossiers N] [--per-dossier N]
        [--presets]

With `--presets`, the package connectors' night follows over the same documents: every dossier
also on a folder package (Topaccount, files named by its templates) and an e-mail package
(Yuki, one message per document, its sending tasks queued but not run).

PostgreSQL: the server of DATABASE_URL, in a database of its own (`<name>_million`, made
afresh). Each run writes into a new folder under bench/results/; the table is printed too.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(1, str(BENCH.parent))  # the test builders make the first row of each kind

import delivery  # noqa: E402  (machine())
from load import fresh_postgres_database  # noqa: E402

TONIGHT = dt.date(2026, 11, 29)
START = dt.date(2026, 1, 1)
DEVICES = 20
BIG_CLIENT = 100_000
LEFT_OUT_PER_DOSSIER = 10
REQUESTS = 9
GOAL_SECONDS, GOAL_PAGE_MS = 60.0, 300.0


def _clone(table: str, template_id: int, source: str, overrides: dict[str, str]) -> int:
    """Copy row `template_id` of `table` once per row of `source` (a FROM clause whose rows
    are named `g`), with `overrides` (column → SQL expression); returns the rows made."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
            "ORDER BY ordinal_position",
            [table],
        )
        columns = [name for (name,) in cursor.fetchall() if name != "id"]
        values = [overrides.get(name, f"t.{name}") for name in columns]
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(values)} "
            f"FROM {table} t, {source} WHERE t.id = %s",
            [template_id],
        )
        return cursor.rowcount


def seed(dossiers: int, per_dossier: int) -> dict[str, Any]:
    from django.core.management import call_command
    from django.db import connection

    from ledgerdrop.accounts import services as accounts
    from ledgerdrop.connectors.bob_demat import services as bob_demat
    from ledgerdrop.delivery import services as delivery_services
    from tests import builders

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    accountant = builders.user("accountant@million.example.be")
    firm = builders.firm("Fiduciaire Million", owner=accountant)
    devices = [
        delivery_services.register_device(firm, name=f"PC {n:02d}").device for n in range(DEVICES)
    ]
    bob_demat.set_default_device(firm, devices[0], by=None)
    client_owner = builders.user("owner@big-client.example.be")
    big = builders.company("Grand Client SA", owner=client_owner)
    _dossier, big_connection = builders.connected_dossier(firm, big, code="GRAND")
    bob_demat.update_connection(big_connection, start_date=START, by=None)
    template = builders.document(big, issue_date=START)
    company_template = builders.company("Modèle")
    kinds = ["sales_invoice", "credit_note", "purchase_slip", "purchase_invoice", "incoming"]
    going = ["sent", "paid", "sent", "approved", "approved"]
    left_out = ["draft", "issued", "issued", "received", "received"]

    def array(values: list[str]) -> str:
        return "ARRAY[" + ", ".join(f"'{value}'" for value in values) + "]"

    made = {}
    made["companies"] = _clone(
        "accounts_organisation", company_template.pk,
        f"generate_series(1, {dossiers}) g",
        {"name": "'Client ' || lpad(g::text, 5, '0')", "created_at": "now()"},
    )  # fmt: skip
    clients = (
        "(SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM accounts_organisation "
        "WHERE starts_with(name, 'Client ')) g"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO accounts_dossier (firm_id, company_id, created_at) "
            f"SELECT %s, g.id, now() FROM {clients}",
            [firm.pk],
        )
        # Half the dossiers name a device of their own; the others use the default device.
        device_ids = "ARRAY[" + ", ".join(str(device.pk) for device in devices) + "]"
        cursor.execute(
            "INSERT INTO bob_demat_dematconnection (firm_id, dossier_id, dossier_code, device_id,"
            " auto_transfer, start_date, created_at)"
            f" SELECT %s, ds.id, 'C' || lpad(g.n::text, 5, '0'),"
            " CASE WHEN mod(g.n, 2) = 0 THEN NULL"
            f" ELSE ({device_ids})[1 + mod(g.n, {DEVICES})] END,"
            f" true, %s, now() FROM {clients} JOIN accounts_dossier ds ON ds.company_id = g.id",
            [firm.pk, START],
        )
    # The eligible million: five kinds in turn, dates over the year, each a status that goes.
    documents = (
        f"(SELECT c.id AS company_id, s.i, c.n FROM {clients.removesuffix(' g')} c,"
        f" generate_series(0, {per_dossier + LEFT_OUT_PER_DOSSIER} - 1) s(i)) g"
    )
    days = (TONIGHT - START).days + 1
    made["documents"] = _clone(
        "documents_document", template.pk, documents,
        {
            "company_id": "g.company_id",
            "kind": f"({array(kinds)})[1 + mod(g.i, 5)]",
            "status": f"CASE WHEN g.i < {per_dossier} THEN ({array(going)})[1 + mod(g.i, 5)]"
            f" ELSE ({array(left_out)})[1 + mod(g.i, 5)] END",
            "number": "'F-' || g.n || '-' || g.i",
            "issue_date": f"DATE '{START}' + mod(g.n * 7 + g.i * 3, {days})::int",
            "sequence": "NULL",
            "created_at": "now()",
        },
    )  # fmt: skip
    made["big_client_documents"] = _clone(
        "documents_document", template.pk, f"generate_series(1, {BIG_CLIENT - 1}) g",
        {
            "status": "'sent'",
            "number": "'G-' || g",
            "issue_date": f"DATE '{START}' + mod(g, {days})::int",
            "sequence": "NULL",
            "created_at": "now()",
        },
    )  # fmt: skip
    with connection.cursor() as cursor:
        # As a database that has lived with its rows: statistics, visibility map, hint bits.
        cursor.execute("VACUUM ANALYZE")
    token = accounts.issue_token(client_owner, "bench")[1]
    return {
        "seconds": time.perf_counter() - started,
        "made": made,
        "firm": firm.pk,
        "accountant": accountant.pk,
        "big": big.pk,
        "client_owner": client_owner.pk,
        "token": token,
    }


def _median_ms(client: Any, url: str, **headers: str) -> tuple[float, Any]:
    times, response = [], None
    for _ in range(REQUESTS):
        began = time.perf_counter()
        response = client.get(url, **headers)
        times.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return statistics.median(times), response


def pages(data: dict[str, Any]) -> dict[str, float]:
    """Median milliseconds per page: documents to process (first, deep) and the big client's
    list (the page and the API)."""
    from django.test import Client
    from django.urls import reverse

    from ledgerdrop.accounts.models import Organisation, User
    from ledgerdrop.connectors.bob_demat import services as bob_demat

    firm = Organisation.objects.get(pk=data["firm"])
    accountant = Client(HTTP_HOST="127.0.0.1")
    accountant.force_login(User.objects.get(pk=data["accountant"]))
    to_process = reverse("documents-to-process", args=[data["firm"]])
    # A page deep in the list: after the documents of the first half of the year.
    middle = bob_demat.documents_to_process(firm).filter(issue_date__gte=dt.date(2026, 7, 1))
    deep = middle.values_list("issue_date", "id").first()
    results = {}
    results["to_process_first_ms"], _ = _median_ms(accountant, to_process)
    if deep is not None:
        results["to_process_deep_ms"], _ = _median_ms(
            accountant, f"{to_process}?after={deep[0].isoformat()}.{deep[1]}"
        )
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(User.objects.get(pk=data["client_owner"]))
    results["client_page_ms"], _ = _median_ms(
        client, reverse("company-documents", args=[data["big"]])
    )
    api = f"/api/v1/companies/{data['big']}/documents?limit=50"
    auth = {"HTTP_AUTHORIZATION": f"Bearer {data['token']}"}
    results["client_api_ms"], response = _median_ms(Client(HTTP_HOST="127.0.0.1"), api, **auth)
    after = response.headers["Link"].split("after=")[1].split("&")[0].split(">")[0]
    results["client_api_next_ms"], _ = _median_ms(
        Client(HTTP_HOST="127.0.0.1"), f"{api}&after={after}", **auth
    )
    return results


def peer(on: dt.date) -> dict[str, Any]:
    """The plain INSERT … SELECT of the same rows, timed and rolled back."""
    from django.db import connection, transaction

    from ledgerdrop.connectors.bob_demat import nightly
    from ledgerdrop.connectors.bob_demat.models import DematConnection

    ids = list(DematConnection.objects.filter(auto_transfer=True).values_list("pk", flat=True))
    picked, params = nightly.picked(ids, on)
    sql = (
        f"WITH picked AS ({picked}) INSERT INTO delivery_delivery (firm_id, device_id,"
        " source_id, company_id, relative_path, sha256, size, source_type, state, queued_at,"
        " placed_path, failure_reason, failure_message)"
        " SELECT firm_id, device_id, source_id, company_id, relative_path, sha256, size,"
        " 'documents.document', 'queued', now(), '', '', '' FROM picked"
    )

    class Undo(Exception):
        pass

    began = time.perf_counter()
    rows = 0
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            # Django's foreign keys are checked at commit; this one never commits, so it
            # checks them in the statement, as the night's commit does.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE", [])
            cursor.execute(sql, params)
            rows = cursor.rowcount
            seconds = time.perf_counter() - began
            raise Undo
    except Undo:
        pass
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE delivery_delivery")
    return {"seconds": seconds, "rows": rows}


def night(on: dt.date) -> dict[str, Any]:
    from django.db import connection

    from ledgerdrop.connectors.bob_demat import services as bob_demat

    began = time.perf_counter()
    report = bob_demat.run_autosend(on=on)
    seconds = time.perf_counter() - began
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), count(DISTINCT source_id) FROM delivery_delivery"
            " WHERE source_type = 'documents.document'"
        )
        deliveries, documents = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM bob_demat_transmission")
        (transmissions,) = cursor.fetchone()
        cursor.execute(
            "SELECT count(*) FROM accounts_auditentry WHERE action = 'bob_demat.autosent'"
        )
        (audit_rows,) = cursor.fetchone()
    return {
        "seconds": seconds,
        "queued": report.queued,
        "deliveries": deliveries,
        "distinct_documents": documents,
        "transmissions": transmissions,
        "audit_rows": audit_rows,
    }


def presets_night(on: dt.date, firm_id: int) -> dict[str, Any]:
    """The package connectors' night: each dossier connected, in SQL, to Topaccount (by its
    dossier code, to the firm's first device) and to Yuki; then their nightly transfer."""
    from django.db import connection

    from ledgerdrop.connectors.presets import services as presets
    from ledgerdrop.connectors.presets.catalogue import DEFAULT_FILE_TEMPLATE
    from ledgerdrop.delivery.models import Device

    device = Device.objects.filter(firm=firm_id).order_by("pk").first()
    assert device is not None
    with connection.cursor() as cursor:
        for app, template, addresses in (
            ("topaccount", "{dossier_code}/{direction}", "{}"),
            ("yuki", "", '{"inbox": "dossiers@yuki.example.be"}'),
        ):
            cursor.execute(
                "INSERT INTO connector_presets_connection (firm_id, app, dossier_id, dossier_code,"
                " device_id, path_template, file_template, direction_words, payload, addresses,"
                " auto_transfer, start_date, created_at)"
                " SELECT firm_id, %s, dossier_id, dossier_code, %s, %s, %s, '{}', 'ubl', %s,"
                " true, start_date, now() FROM bob_demat_dematconnection WHERE auto_transfer",
                [app, device.pk if app == "topaccount" else None, template,
                 DEFAULT_FILE_TEMPLATE if template else "", addresses],
            )  # fmt: skip
        cursor.execute("ANALYZE")
    began = time.perf_counter()
    report = presets.run_autosend(on=on)
    seconds = time.perf_counter() - began
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(delivery_id), count(message_id) FROM connector_presets_shipment"
            " WHERE origin = 'automatic'"
        )
        files, messages = cursor.fetchone()
        cursor.execute(
            "SELECT count(*) FROM accounts_auditentry WHERE action = 'connector.autosent'"
        )
        (audit_rows,) = cursor.fetchone()
    return {
        "seconds": seconds,
        "queued": report.queued,
        "files": files,
        "messages": messages,
        "audit_rows": audit_rows,
    }


def table(results: dict[str, Any]) -> str:
    m, n, p = results["machine"], results["night"], results["peer"]
    again = results["second_night"]
    before, after = results["pages_before"], results["pages_after"]
    ratio = n["seconds"] / p["seconds"] if p["seconds"] else float("nan")
    met = "met" if n["seconds"] < GOAL_SECONDS else "missed"

    def page_row(label: str, key: str) -> str:
        cells = [f"{pages[key]:.0f} ms" if key in pages else "—" for pages in (before, after)]
        worst = max(pages.get(key, 0.0) for pages in (before, after))
        goal = "met" if worst < GOAL_PAGE_MS else "missed"
        return f"| {label} | {cells[0]} | {cells[1]} | < {GOAL_PAGE_MS:.0f} ms ({goal}) |"

    return "\n".join(
        [
            f"Million benchmark, {results['started']} — {m['cores']} cores ({m['cpu']}), "
            f"PostgreSQL {results['postgres']}, load average {m['load_average_at_start']:.1f} "
            "at start (the machine is shared)",
            "",
            f"Seeded in {results['seed']['seconds']:.0f} s: {results['seed']['made']}",
            "",
            "| measure | Ledgerdrop | peer | ratio | goal |",
            "|---|---|---|---|---|",
            f"| nightly transfer, {n['queued']:,} documents of {results['dossiers']:,} dossiers "
            f"| {n['seconds']:.1f} s | plain `INSERT … SELECT` of the same rows: "
            f"{p['seconds']:.1f} s ({p['rows']:,} rows) | {ratio:.2f}× "
            f"| < {GOAL_SECONDS:.0f} s ({met}) |",
            f"| the next night, nothing new | {again['seconds']:.1f} s, {again['queued']} queued "
            "| | | |",
            f"| exactly once | {n['deliveries']:,} deliveries of {n['distinct_documents']:,} "
            f"documents, {n['transmissions']:,} transmissions, {n['audit_rows']:,} audit rows "
            "| | | |",
            *(
                [
                    f"| package connectors' night (folder and e-mail packages) "
                    f"| {results['presets']['seconds']:.1f} s, {results['presets']['files']:,} "
                    f"files and {results['presets']['messages']:,} messages, "
                    f"{results['presets']['audit_rows']:,} audit rows | | | |"
                ]
                if "presets" in results
                else []
            ),
            "",
            f"| page (median of {REQUESTS}) | before the night | after | goal |",
            "|---|---|---|---|",
            page_row("Documents à traiter, first page", "to_process_first_ms"),
            page_row("Documents à traiter, a page deep in the list", "to_process_deep_ms"),
            page_row("client's documents page (100,000 documents)", "client_page_ms"),
            page_row("client's documents API, `limit=50`", "client_api_ms"),
            page_row("client's documents API, next page", "client_api_next_ms"),
            "",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dossiers", type=int, default=10_000)
    parser.add_argument("--per-dossier", type=int, default=100)
    parser.add_argument("--out", type=Path, default=BENCH / "results")
    parser.add_argument(
        "--presets", action="store_true", help="then the package connectors' night too"
    )
    args = parser.parse_args(argv)
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("PostgreSQL: run under scripts/with-postgres.sh (DATABASE_URL)")
    url = os.environ["DATABASE_URL"]
    os.environ["DATABASE_URL"] = fresh_postgres_database(url, suffix="_million")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ledgerdrop.config.settings")
    os.environ.setdefault("LEDGERDROP_DATA_DIR", str(args.out / "million-data"))
    import django

    django.setup()
    from django.db import connection

    started = dt.datetime.now(dt.UTC)
    results: dict[str, Any] = {
        "started": f"{started:%Y-%m-%d %H:%M} UTC",
        "machine": delivery.machine(),
        "dossiers": args.dossiers,
        "postgres": connection.cursor().connection.info.server_version,
    }
    results["seed"] = seed(args.dossiers, args.per_dossier)
    print(f"seed: {results['seed']['seconds']:.0f} s {results['seed']['made']}", file=sys.stderr)
    results["pages_before"] = pages(results["seed"])
    print(f"pages before: {results['pages_before']}", file=sys.stderr)
    results["peer"] = peer(TONIGHT)
    print(f"peer: {results['peer']}", file=sys.stderr)
    results["night"] = night(TONIGHT)
    print(f"night: {results['night']}", file=sys.stderr)
    results["second_night"] = night(TONIGHT)
    if args.presets:
        results["presets"] = presets_night(TONIGHT, results["seed"]["firm"])
        print(f"presets: {results['presets']}", file=sys.stderr)
    results["pages_after"] = pages(results["seed"])
    del results["seed"]["token"]
    run = args.out / f"million-{started:%Y%m%d-%H%M%S}"
    run.mkdir(parents=True)
    (run / "results.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    markdown = table(results)
    (run / "results.md").write_text(markdown)
    print(markdown)
    print(f"Written to {run}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
