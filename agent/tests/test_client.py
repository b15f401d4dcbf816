from __future__ import annotations

import io

import pytest
from device_server import TOKEN, DeviceServer

from ledgerdrop_agent import __version__
from ledgerdrop_agent.client import (
    Backoff,
    DeviceClient,
    ProblemError,
    ServerUnavailable,
    Unauthorized,
)
from ledgerdrop_agent.pairing import PairingFailed, describe_device, pair_with_code, pair_with_key
from ledgerdrop_protocol import AckBatch, FailReason, FailReport, PairingStarted, routes

PENDING = (400, {"error": "authorization_pending"})
SLOW_DOWN = (400, {"error": "slow_down"})
GRANTED = (200, {"device_id": 7, "token": "new-device-token"})


def test_every_call_carries_the_credential_and_the_agent_version(
    server: DeviceServer, client: DeviceClient
) -> None:
    client.offers(wait=0, limit=10)

    _, path, headers = server.requests[-1]
    assert path == routes.OFFERS.url()
    assert headers["Authorization"] == f"Bearer {TOKEN}"
    assert headers["User-Agent"] == f"ledgerdrop-agent/{__version__}"


def test_a_revoked_credential_is_not_retried(server: DeviceServer, client: DeviceClient) -> None:
    server.revoked = True

    with pytest.raises(Unauthorized):
        client.offers(wait=0, limit=10)
    assert len(server.requests) == 1


def test_server_errors_are_retried_then_reported_unavailable(
    server: DeviceServer, client: DeviceClient
) -> None:
    server.unavailable = 100

    with pytest.raises(ServerUnavailable, match="503"):
        client.offers(wait=0, limit=10)
    assert len(server.requests) == client.attempts


def test_a_busy_server_is_asked_again_no_sooner_than_it_says(server: DeviceServer) -> None:
    server.unavailable, server.retry_after = 2, "3"
    waits: list[float] = []

    with DeviceClient(server.url, TOKEN, backoff=Backoff(0.001, 30), sleep=waits.append) as client:
        client.offers(wait=0, limit=10)

    assert waits == [3.0, 3.0]
    assert len(server.requests) == 3


def test_an_unreachable_server_is_reported_unavailable() -> None:
    server = DeviceServer().start()
    address = server.url
    server.stop()

    with (
        DeviceClient(address, TOKEN, backoff=Backoff(0.001, 0.01)) as client,
        pytest.raises(ServerUnavailable),
    ):
        client.offers(wait=0, limit=10)


def test_a_refused_request_carries_the_servers_explanation(
    server: DeviceServer, client: DeviceClient
) -> None:
    with pytest.raises(ProblemError) as refused:
        client.fail(99_999, FailReport(reason=FailReason.OTHER, message="x"))
    assert refused.value.problem.status == 404


def test_acks_go_out_in_one_request(server: DeviceServer, client: DeviceClient) -> None:
    first = server.add("A/f1.xml", b"1")
    second = server.add("A/f2.xml", b"2")

    result = client.ack(
        AckBatch.model_validate(
            {
                "acks": [
                    {"id": d.id, "sha256": d.sha256, "placed_path": d.relative_path}
                    for d in (first, second)
                ]
            }
        )
    )

    assert result.acknowledged == [1, 2]
    assert server.paths("POST") == [routes.ACKS.url()]


def test_the_credential_is_never_sent_to_another_server(client: DeviceClient) -> None:
    with pytest.raises(ProblemError, match="refusing"):
        client.download("https://elsewhere.example/steal", io.BytesIO(), 10)


def test_pairing_polls_until_confirmed_and_slows_down_when_asked(server: DeviceServer) -> None:
    server.pairing_interval = 2
    server.token_answers = [PENDING, SLOW_DOWN, PENDING, GRANTED]
    shown: list[PairingStarted] = []
    waits: list[float] = []

    with DeviceClient(server.url) as client:
        granted = pair_with_code(
            client, describe_device("PC Kevin"), on_started=shown.append, sleep=waits.append
        )

    assert (granted.device_id, granted.token) == (7, "new-device-token")
    assert shown[0].user_code == "WDJB-MJHT"
    assert waits == [2, 2, 7, 7]
    assert server.token_requests[0] == {"device_code": "device-code-1"}
    assert all("Authorization" not in headers for _, _, headers in server.requests)


@pytest.mark.parametrize(
    ("error", "explained"),
    [
        ("expired_token", "expired"),
        ("access_denied", "refused"),
        ("invalid_grant", "did not accept"),
    ],
)
def test_pairing_stops_with_a_clear_reason(
    server: DeviceServer, error: str, explained: str
) -> None:
    server.token_answers = [PENDING, (400, {"error": error})]

    with DeviceClient(server.url) as client, pytest.raises(PairingFailed, match=explained):
        pair_with_code(client, describe_device(), on_started=print, sleep=lambda _: None)


def test_an_enrolment_key_pairs_in_one_request_with_the_device_facts(
    server: DeviceServer,
) -> None:
    server.token_answers = [GRANTED]

    with DeviceClient(server.url) as client:
        granted = pair_with_key(client, describe_device("shared server"), "KEY-123")

    assert granted.device_id == 7
    sent = server.token_requests[0]
    assert sent["enrolment_key"] == "KEY-123"
    assert sent["name"] == "shared server"
    assert sent["hostname"]
    assert sent["agent_version"] == __version__
    assert "device_code" not in sent
