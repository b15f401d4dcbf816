"""The load generator of `bench/load.py` and of its smaller version in CI
(`tests/system/test_load.py`): API clients issuing invoices and uploading purchase documents,
and downloaders holding long-polls, all against one real server over loopback.

Every answer is recorded. A client answered 503 waits as long as Retry-After says (with a
little jitter, as a fleet of clients would) and sends the same request again: the latency of a
request is the time from its first sending to its last answer."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import random
import statistics
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from ledgerdrop_protocol import routes

API = "/api/v1"
PROBLEM = "application/problem+json"
# Shorter than the server's (uvicorn: 5 s), as a well-behaved client's: a connection the
# server is closing just as the client reuses it would look like a failure of the server.
KEEP_ALIVE = 3.0


@dataclass(frozen=True)
class ApiClient:
    token: str
    company_id: int


@dataclass
class Outcome:
    """What the clients saw: per request, its latency; per answer, its status."""

    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    # Answers no client should ever see: 500s, other statuses, a 503 without Retry-After or
    # problem details; and requests still failing after every retry.
    wrong: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def requests(self) -> int:
        return len(self.latencies)

    def summary(self) -> dict[str, Any]:
        ordered = sorted(self.latencies)
        return {
            "requests": self.requests,
            "seconds": self.seconds,
            "requests_per_second": self.requests / self.seconds if self.seconds else 0.0,
            "p50_ms": 1000 * statistics.median(ordered) if ordered else None,
            "p99_ms": 1000 * ordered[max(0, round(0.99 * len(ordered)) - 1)] if ordered else None,
            "max_ms": 1000 * ordered[-1] if ordered else None,
            "statuses": {str(status): count for status, count in sorted(self.statuses.items())},
            "busy_answers": self.statuses[503],
            "errors": len(self.wrong),
            "wrong_answers": self.wrong[:20],
        }


@dataclass(frozen=True)
class Answer:
    url: str
    status: int
    headers: dict[str, str]
    text: str


Work = Callable[[aiohttp.ClientSession, ApiClient, int], Awaitable[Answer]]


async def _answer(request: Any) -> Answer:
    async with request as response:
        return Answer(
            response.url.path, response.status, dict(response.headers), await response.text()
        )


def invoice_payload(number: int) -> dict[str, Any]:
    return {
        "kind": "sales_invoice",
        "issue_date": dt.date(2026, 11, 2).isoformat(),
        "counterparty": {
            "name": f"Brouwerij Noord NV {number % 37}",
            "vat_number": "BE0202239951",
            "address": {"street": "Kaai 3", "postal_code": "2000", "city": "Antwerpen"},
        },
        "lines": [
            {"description": "Réglage éclairage", "quantity": "7.5", "unit_price": "65",
             "vat_rate": "21"},
            {"description": "Livre technique", "quantity": "1", "unit_price": "39.90",
             "vat_rate": "6"},
            {"description": f"Déplacement {number}", "quantity": "1", "unit_price": "25",
             "vat_rate": "21"},
        ],
    }  # fmt: skip


def issue_invoice(http: aiohttp.ClientSession, client: ApiClient, number: int) -> Awaitable[Answer]:
    return _answer(
        http.post(
            f"{API}/companies/{client.company_id}/documents",
            json=invoice_payload(number),
            headers={"Authorization": f"Bearer {client.token}"},
        )
    )


def upload_purchase(documents: list[bytes]) -> Work:
    def upload(http: aiohttp.ClientSession, client: ApiClient, number: int) -> Awaitable[Answer]:
        form = aiohttp.FormData()
        form.add_field(
            "file",
            documents[number % len(documents)],
            filename=f"purchase-{number}.xml",
            content_type="application/xml",
        )
        return _answer(
            http.post(
                f"{API}/companies/{client.company_id}/documents/upload",
                data=form,
                headers={"Authorization": f"Bearer {client.token}"},
            )
        )

    return upload


def mixed(documents: list[bytes]) -> Work:
    """Half the requests issue an invoice, half upload a purchase document."""
    upload = upload_purchase(documents)

    def work(http: aiohttp.ClientSession, client: ApiClient, number: int) -> Awaitable[Answer]:
        return (issue_invoice if number % 2 else upload)(http, client, number)

    return work


def bare_view(http: aiohttp.ClientSession, client: ApiClient, number: int) -> Awaitable[Answer]:
    return _answer(http.get("/healthz"))


def _check(response: Answer, outcome: Outcome) -> bool:
    """Record the answer; True when the request is done (answered 2xx or wrongly)."""
    outcome.statuses[response.status] += 1
    if 200 <= response.status < 300:
        return True
    if response.status == 503:
        problems = []
        if not response.headers.get("Retry-After", "").isdigit():
            problems.append("no Retry-After")
        api = response.url.startswith("/api/")  # pages get a page saying to try again
        if api and not response.headers.get("Content-Type", "").startswith(PROBLEM):
            problems.append("not problem details")
        if problems:
            outcome.wrong.append(f"503 with {' and '.join(problems)}")
            return True
        return False
    outcome.wrong.append(f"{response.status}: {response.text[:300]}")
    return True


async def _one_client(
    http: aiohttp.ClientSession,
    client: ApiClient,
    work: Work,
    numbers: range,
    outcome: Outcome,
    rng: random.Random,
) -> None:
    for number in numbers:
        started = time.perf_counter()
        for _attempt in range(60):
            try:
                response = await work(http, client, number)
            except (aiohttp.ClientError, TimeoutError) as error:
                outcome.wrong.append(f"{type(error).__name__}: {error}")
                break
            if _check(response, outcome):
                break
            await asyncio.sleep(int(response.headers["Retry-After"]) * rng.uniform(0.5, 1.5))
        else:
            outcome.wrong.append("still busy after 60 tries")
        outcome.latencies.append(time.perf_counter() - started)


async def run_clients(
    url: str, clients: list[ApiClient], per_client: int, work: Work, seed: int = 2026
) -> Outcome:
    """Each client sends `per_client` requests, one after the other; all clients at once."""
    outcome = Outcome()
    rng = random.Random(seed)
    connector = aiohttp.TCPConnector(limit=len(clients) + 10, keepalive_timeout=KEEP_ALIVE)
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(url, connector=connector, timeout=timeout) as http:
        started = time.perf_counter()
        await asyncio.gather(
            *(
                _one_client(http, client, work, range(i * 1000, i * 1000 + per_client),
                            outcome, rng)
                for i, client in enumerate(clients)
            )
        )  # fmt: skip
        outcome.seconds = time.perf_counter() - started
    return outcome


@dataclass
class LongPolls:
    """Downloaders waiting for offers, as the agent does: a poll answered is sent again."""

    url: str
    tokens: list[str]
    wait: int = 60
    answers: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _http: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        self._http = aiohttp.ClientSession(
            self.url,
            connector=aiohttp.TCPConnector(
                limit=len(self.tokens) + 10, keepalive_timeout=KEEP_ALIVE
            ),
            timeout=aiohttp.ClientTimeout(total=self.wait + 30),
        )
        for start in range(0, len(self.tokens), 200):  # as a fleet comes online: not all at once
            self._tasks += [
                asyncio.create_task(self._poll(token)) for token in self.tokens[start : start + 200]
            ]
            await asyncio.sleep(0.2)

    async def _poll(self, token: str) -> None:
        assert self._http is not None
        headers = {"Authorization": f"Bearer {token}"}
        # A fleet's polls are spread over the wait, not in step: the first one waits less.
        wait = random.randint(1, self.wait)
        while True:
            try:
                response = await _answer(
                    self._http.get(
                        routes.OFFERS.url(),
                        params={"wait": wait, "limit": 100},
                        headers=headers,
                    )
                )
                wait = self.wait
            except (aiohttp.ClientError, TimeoutError) as error:
                self.failures.append(f"{type(error).__name__}: {error}")
                await asyncio.sleep(1)
                continue
            self.answers[response.status] += 1
            if response.status == 503:  # busy: back again when told, as the agent does
                await asyncio.sleep(float(response.headers.get("Retry-After", "1")))
            elif response.status != 200:
                self.failures.append(f"{response.status}: {response.text[:200]}")
                await asyncio.sleep(1)

    async def stop(self) -> dict[str, Any]:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._http is not None:
            await self._http.close()
        return {
            "devices": len(self.tokens),
            "answers": {str(k): v for k, v in sorted(self.answers.items())},
            "failures": len(self.failures),
            "first_failures": self.failures[:5],
        }


def dumps(value: Any) -> str:
    return json.dumps(value, indent=2, default=str)
