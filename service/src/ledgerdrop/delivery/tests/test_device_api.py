"""The device API as a downloader sees it (API.md, DESIGN.md §5)."""

from __future__ import annotations

import hashlib
import itertools
from typing import Any

import pytest
from django.test import Client

from ledgerdrop.accounts.models import AuditEntry
from ledgerdrop.connectors.bob_demat import services as bob_demat
from ledgerdrop.core import storage
from ledgerdrop.delivery import services
from ledgerdrop.delivery.api import byte_range
from ledgerdrop.delivery.models import Delivery, Device
from ledgerdrop_protocol import routes
from tests import builders

pytestmark = pytest.mark.django_db


class DeviceClient:
    def __init__(self, token: str) -> None:
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {token}"}

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(path, params, headers=self.headers)

    def post(self, path: str, body: dict[str, Any]) -> Any:
        return self.client.post(path, body, content_type="application/json", headers=self.headers)


Paired = tuple[Device, DeviceClient]


@pytest.fixture
def paired() -> Paired:
    firm = builders.firm()
    credential = services.register_device(firm, name="PC Kevin", os="Windows 11")
    return credential.device, DeviceClient(credential.token)


_numbers = itertools.count(1)


def queued_delivery(device: Device, code: str = "DUPONT") -> Delivery:
    # Straight through the delivery service: what a connector decides is not under test here.
    number = next(_numbers)
    invoice = f"<Invoice><ID>2026-{number:04d}</ID>{'<Note>ligne</Note>' * 20}</Invoice>"
    return services.queue_delivery(
        device,
        relative_path=f"{code}/ventes/20261102_2026-{number:04d}.xml",
        blob=storage.put(invoice.encode()),
    )


def test_offers_list_queued_files_with_their_checksum_and_the_folders_to_create(
    paired: Paired,
) -> None:
    device, client = paired
    builders.connected_dossier(device.firm, builders.company(), code="DUPONT")
    bob_demat.set_default_device(device.firm, device, by=None)
    delivery = queued_delivery(device)

    answer = client.get(routes.OFFERS.url(), wait=0).json()

    assert answer["settings"] == {"root_folder": r"c:\bob-demat"}
    assert answer["folders"] == ["DUPONT/achats", "DUPONT/ventes"]
    [offer] = answer["deliveries"]
    assert offer["id"] == delivery.pk
    assert offer["relative_path"].startswith("DUPONT/ventes/")
    assert offer["sha256"] == delivery.sha256


def test_content_is_the_exact_bytes_with_the_checksum_as_etag(paired: Paired) -> None:
    device, client = paired
    delivery = queued_delivery(device)

    response = client.get(routes.CONTENT.url(delivery_id=delivery.pk))

    body = response.content
    assert hashlib.sha256(body).hexdigest() == delivery.sha256
    assert response["ETag"] == f'"{delivery.sha256}"'


def test_a_repeated_ack_changes_nothing(paired: Paired) -> None:
    device, client = paired
    delivery = queued_delivery(device)
    ack = {"acks": [{"id": delivery.pk, "sha256": delivery.sha256, "placed_path": "a/b.xml"}]}

    first = client.post(routes.ACKS.url(), ack)
    delivery.refresh_from_db()
    delivered_at = delivery.delivered_at
    second = client.post(routes.ACKS.url(), ack)
    delivery.refresh_from_db()

    assert first.status_code == second.status_code == 200
    assert delivery.state == Delivery.State.DELIVERED
    assert delivery.delivered_at == delivered_at
    assert client.get(routes.OFFERS.url()).json()["deliveries"] == []


def test_a_batch_of_acks_records_where_each_file_was_placed_in_one_audit_entry(
    paired: Paired,
) -> None:
    device, client = paired
    same, renamed = queued_delivery(device, code="DUPONT"), queued_delivery(device, code="PEETERS")
    suffixed = renamed.relative_path.replace(".xml", " (2).xml")

    response = client.post(
        routes.ACKS.url(),
        {
            "acks": [
                {"id": same.pk, "sha256": same.sha256, "placed_path": same.relative_path},
                {"id": renamed.pk, "sha256": renamed.sha256, "placed_path": suffixed},
            ]
        },
    )

    assert response.json() == {"acknowledged": sorted([same.pk, renamed.pk])}
    same.refresh_from_db()
    renamed.refresh_from_db()
    assert (same.state, same.placed_path) == ("delivered", same.relative_path)
    assert (renamed.state, renamed.placed_path) == ("delivered", suffixed)
    [entry] = AuditEntry.objects.filter(action="delivery.delivered")
    assert entry.data == {
        "deliveries": sorted([same.pk, renamed.pk]),
        "renamed": {str(renamed.pk): suffixed},
    }


def test_an_ack_with_another_checksum_is_refused_and_changes_nothing(paired: Paired) -> None:
    device, client = paired
    delivery = queued_delivery(device)

    response = client.post(
        routes.ACKS.url(),
        {"acks": [{"id": delivery.pk, "sha256": "0" * 64, "placed_path": "x.xml"}]},
    )

    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert "different SHA-256" in response.json()["title"]
    delivery.refresh_from_db()
    assert delivery.state == Delivery.State.QUEUED


def test_a_device_never_sees_another_firms_deliveries(paired: Paired) -> None:
    _, client = paired
    other = services.register_device(builders.firm(), name="Other firm's PC").device
    theirs = queued_delivery(other, code="OTHER")

    assert client.get(routes.OFFERS.url()).json()["deliveries"] == []
    assert client.get(routes.CONTENT.url(delivery_id=theirs.pk)).status_code == 404
    ack = {"acks": [{"id": theirs.pk, "sha256": theirs.sha256, "placed_path": "x.xml"}]}
    assert client.post(routes.ACKS.url(), ack).status_code == 404
    theirs.refresh_from_db()
    assert theirs.state == Delivery.State.QUEUED


def test_a_failure_report_is_kept_with_its_reason_and_stops_the_offers(paired: Paired) -> None:
    device, client = paired
    delivery = queued_delivery(device)

    response = client.post(
        routes.FAIL.url(delivery_id=delivery.pk),
        {"reason": "folder_not_writable", "message": r"c:\bob-demat is read-only"},
    )

    assert response.status_code == 204
    delivery.refresh_from_db()
    assert (delivery.state, delivery.failure_reason) == ("failed", "folder_not_writable")
    assert delivery.failure_message == r"c:\bob-demat is read-only"
    assert client.get(routes.OFFERS.url()).json()["deliveries"] == []


def test_a_revoked_device_gets_401_on_its_next_request(paired: Paired) -> None:
    device, client = paired
    assert client.get(routes.OFFERS.url()).status_code == 200

    services.revoke_device(device, by=None)

    response = client.get(routes.OFFERS.url())
    assert response.status_code == 401
    assert response.json()["title"] == "Not authenticated"


def test_a_malformed_ack_gets_problem_details_naming_the_field(paired: Paired) -> None:
    _, client = paired

    response = client.post(routes.ACKS.url(), {"acks": [{"id": 1, "sha256": "nothex"}]})

    assert response.status_code == 422
    fields = {error["field"] for error in response.json()["errors"]}
    assert {"acks.0.sha256", "acks.0.placed_path"} <= fields


def test_an_id_beyond_any_record_is_a_problem_naming_the_field_not_a_server_error(
    paired: Paired,
) -> None:
    _, client = paired
    beyond = 2**64  # more than a database id column holds

    ack = client.post(
        routes.ACKS.url(), {"acks": [{"id": beyond, "sha256": "0" * 64, "placed_path": "x"}]}
    )
    contents = client.post(routes.CONTENTS.url(), {"ids": [beyond]})

    assert (ack.status_code, contents.status_code) == (422, 422)
    assert ack.json()["errors"][0]["field"] == "acks.0.id"
    assert contents.json()["errors"][0]["field"] == "ids.0"


def test_a_resumed_download_gets_the_rest_of_the_bytes_with_206(paired: Paired) -> None:
    device, client = paired
    delivery = queued_delivery(device)
    whole = client.get(routes.CONTENT.url(delivery_id=delivery.pk)).content

    rest = client.client.get(
        routes.CONTENT.url(delivery_id=delivery.pk),
        headers={**client.headers, "Range": "bytes=100-"},
    )

    assert rest.status_code == 206
    assert rest.content == whole[100:]
    assert rest["Content-Range"] == f"bytes 100-{len(whole) - 1}/{len(whole)}"
    assert rest["ETag"] == f'"{delivery.sha256}"'


def test_a_range_beyond_the_end_is_refused_with_416_and_the_size(paired: Paired) -> None:
    device, client = paired
    delivery = queued_delivery(device)

    answer = client.client.get(
        routes.CONTENT.url(delivery_id=delivery.pk),
        headers={**client.headers, "Range": f"bytes={delivery.size}-"},
    )

    assert answer.status_code == 416
    assert answer["Content-Range"] == f"bytes */{delivery.size}"


def test_a_range_for_other_bytes_than_the_etag_names_gets_the_whole_file(paired: Paired) -> None:
    device, client = paired
    delivery = queued_delivery(device)

    answer = client.client.get(
        routes.CONTENT.url(delivery_id=delivery.pk),
        headers={**client.headers, "Range": "bytes=10-", "If-Range": '"another-file"'},
    )

    assert answer.status_code == 200
    assert len(answer.content) == delivery.size


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-9", (0, 9)),
        ("bytes=5-", (5, 99)),
        ("bytes=-10", (90, 99)),
        ("bytes=90-500", (90, 99)),
        ("bytes=100-", None),
        ("bytes=9-3", None),
        ("bytes=0-1,5-6", None),
        ("items=0-1", None),
        ("bytes=abc-", None),
    ],
)
def test_byte_ranges_are_read_as_rfc_9110_says(
    header: str, expected: tuple[int, int] | None
) -> None:
    assert byte_range(header, 100) == expected


def test_offers_come_oldest_first_and_at_most_the_limit(paired: Paired) -> None:
    device, client = paired
    deliveries = [queued_delivery(device) for _ in range(3)]

    answer = client.get(routes.OFFERS.url(), limit=2).json()

    assert [offer["id"] for offer in answer["deliveries"]] == [d.pk for d in deliveries[:2]]


def test_the_next_page_of_offers_starts_after_the_id_it_names(paired: Paired) -> None:
    device, client = paired
    deliveries = [queued_delivery(device) for _ in range(5)]

    answer = client.get(routes.OFFERS.url(), limit=2, after=deliveries[1].pk).json()

    assert [offer["id"] for offer in answer["deliveries"]] == [d.pk for d in deliveries[2:4]]


def test_offers_carry_the_main_folder_set_in_the_devices_settings(paired: Paired) -> None:
    device, client = paired

    services.update_device(device, root_folder=r"d:\demat", by=None)

    assert client.get(routes.OFFERS.url()).json()["settings"] == {"root_folder": r"d:\demat"}


def test_the_device_api_serves_each_route_the_protocol_names_and_no_other() -> None:
    named = {value for value in vars(routes).values() if isinstance(value, routes.Route)}

    document = Client().get(f"{routes.PREFIX}/openapi.json").json()

    assert set(document["paths"]) == {routes.PREFIX + route.path for route in named}
