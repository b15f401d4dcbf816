"""When every request thread of the node is taken, a page says so in the visitor's language
and an API answers 503 with Retry-After and problem details; once a thread is free again,
everything answers as before. The only thread is held by a real request whose body never
finishes arriving."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import httpx
import pytest

from tests.conftest import LiveService

pytestmark = pytest.mark.system


@contextmanager
def the_only_thread_taken(live_service: LiveService) -> Iterator[None]:
    address = urlsplit(live_service.url)
    with socket.create_connection((address.hostname, address.port)) as slow:
        slow.sendall(
            b"POST /api/v1/tokens HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"
        )
        time.sleep(0.5)  # taken in by now, waiting for the rest of its body
        yield


@pytest.fixture
def one_thread_node(live_service: LiveService) -> LiveService:
    live_service.stop()
    live_service.env.update(LEDGERDROP_REQUEST_THREADS="1", LEDGERDROP_BUSY_WAIT_SECONDS="0.5")
    live_service.start()
    return live_service


def test_a_page_asked_of_a_busy_node_says_to_try_again_in_the_visitors_language(
    one_thread_node: LiveService,
) -> None:
    login = f"{one_thread_node.url}/accounts/login/"
    with the_only_thread_taken(one_thread_node):
        dutch = httpx.get(login, headers={"Accept-Language": "nl"}, timeout=10)
        french = httpx.get(login, timeout=10)

    assert dutch.status_code == 503
    assert dutch.headers["Retry-After"] == "2"
    assert "Momenteel erg druk" in dutch.text
    assert "Er is niets gewijzigd" in dutch.text
    assert "Très occupé en ce moment" in french.text
    assert httpx.get(login, timeout=10).status_code == 200


def test_an_api_asked_of_a_busy_node_answers_503_with_retry_after_and_problem_details(
    one_thread_node: LiveService,
) -> None:
    me = f"{one_thread_node.url}/api/v1/me"
    with the_only_thread_taken(one_thread_node):
        busy = httpx.get(me, headers={"Authorization": "Bearer ldt_unknown"}, timeout=10)

    assert busy.status_code == 503
    assert busy.headers["Retry-After"] == "2"
    assert busy.headers["Content-Type"] == "application/problem+json"
    assert busy.json()["type"] == "urn:ledgerdrop:problem:busy"
    assert httpx.get(me, headers={"Authorization": "Bearer ldt_unknown"}).status_code == 401
