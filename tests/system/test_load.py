"""A smaller version of the load benchmark (`bench/load.py`) against the real server process:
sixty API clients at once issuing invoices and uploading purchase documents, on a node given
too few request threads (or, on PostgreSQL, too small a pool) and a short busy wait. Every
answer is 2xx or 503 with Retry-After and problem details — never a 500 — and once the clients
have come back as told, every document asked for exists exactly once."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from django.db import connection

from ledgerdrop.accounts import services as accounts
from ledgerdrop.documents.models import Document
from tests import builders
from tests.conftest import LiveService, run_on_own_loop

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import loadgen

pytestmark = pytest.mark.system

CLIENTS = 60
PER_CLIENT = 2


def clients_of_six_companies() -> tuple[list[loadgen.ApiClient], list[bytes]]:
    companies = []
    for n in range(6):
        owner = builders.user(f"owner{n}@load.example.be")
        companies.append((owner, builders.invoicing_company(f"Société {n}", owner=owner)))
    clients = [
        loadgen.ApiClient(accounts.issue_token(owner, "load")[1], company.pk)
        for owner, company in (companies[i % len(companies)] for i in range(CLIENTS))
    ]
    buyer = companies[0][1]
    purchases = [builders.received_ubl(buyer, number=f"ACH-{n}", with_pdf=n == 0) for n in range(2)]
    return clients, purchases


def run_busy_node(live_service: LiveService, **budget: str) -> loadgen.Outcome:
    live_service.stop()
    live_service.env.update(budget, LEDGERDROP_BUSY_WAIT_SECONDS="0.3")
    live_service.start()
    clients, purchases = clients_of_six_companies()
    return run_on_own_loop(
        loadgen.run_clients(live_service.url, clients, PER_CLIENT, loadgen.mixed(purchases))
    )


def assert_answered_or_busy_and_nothing_lost(outcome: loadgen.Outcome) -> None:
    assert outcome.wrong == []  # no 500, no 503 without Retry-After or problem details
    assert set(outcome.statuses) == {201, 503}  # the node was really too small
    assert Document.objects.count() == CLIENTS * PER_CLIENT


def test_sixty_clients_on_three_request_threads_get_answers_or_busy_never_an_error(
    live_service: LiveService,
) -> None:
    outcome = run_busy_node(live_service, LEDGERDROP_REQUEST_THREADS="3")

    assert_answered_or_busy_and_nothing_lost(outcome)


def test_sixty_clients_on_a_pool_of_four_connections_get_answers_or_busy_never_an_error(
    live_service: LiveService,
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("a connection pool is PostgreSQL's; on SQLite the test above holds")
    # More request threads than connections: requests wait for the pool, not for a thread.
    outcome = run_busy_node(
        live_service, LEDGERDROP_DB_POOL_SIZE="4", LEDGERDROP_REQUEST_THREADS="24"
    )

    assert_answered_or_busy_and_nothing_lost(outcome)
