"""The device API's content and bundle answers when the files are in an S3-compatible bucket
(moto's server): the same bytes, Range, ETag and checksum as from the disk, and files larger
than one read streamed from the bucket a chunk at a time."""

from __future__ import annotations

import hashlib
import json

import pytest
from django.http import StreamingHttpResponse
from django.test import Client

from ledgerdrop.core import storage
from ledgerdrop.delivery import services
from ledgerdrop.delivery.models import Delivery, Device
from ledgerdrop_protocol import routes
from ledgerdrop_protocol.models import BUNDLE_MEDIA_TYPE
from tests import builders
from tests.object_storage import Bucket

pytestmark = [
    pytest.mark.django_db,
    # The test client reads the streamed answer synchronously; the server reads it async.
    pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume:Warning"),
]

LARGE = b"<Invoice>" + bytes(range(256)) * (2 * storage.CHUNK_BYTES // 256) + b"</Invoice>"


@pytest.fixture
def device(s3_bucket: Bucket) -> tuple[Device, Client, dict[str, str]]:
    credential = services.register_device(builders.firm(), name="PC Kevin")
    return credential.device, Client(), {"Authorization": f"Bearer {credential.token}"}


def _queue(device: Device, data: bytes, name: str) -> Delivery:
    return services.queue_delivery(
        device, relative_path=f"DUPONT/ventes/{name}.xml", blob=storage.put(data)
    )


def _body(answer: object) -> bytes:
    if isinstance(answer, StreamingHttpResponse):
        return b"".join(answer)
    return answer.content  # type: ignore[attr-defined, no-any-return]


def test_a_large_file_is_streamed_whole_with_its_checksum_as_etag(
    device: tuple[Device, Client, dict[str, str]],
) -> None:
    owner, client, headers = device
    delivery = _queue(owner, LARGE, "large")

    answer = client.get(routes.CONTENT.url(delivery_id=delivery.pk), headers=headers)

    assert answer.status_code == 200
    assert isinstance(answer, StreamingHttpResponse)
    assert answer["Content-Length"] == str(len(LARGE))
    assert answer["ETag"] == f'"{delivery.sha256}"'
    assert hashlib.sha256(_body(answer)).hexdigest() == delivery.sha256


@pytest.mark.parametrize("start", [0, 17, storage.CHUNK_BYTES + 3])
def test_a_resumed_download_gets_the_rest_from_the_bucket(
    device: tuple[Device, Client, dict[str, str]], start: int
) -> None:
    owner, client, headers = device
    delivery = _queue(owner, LARGE, "resumed")

    answer = client.get(
        routes.CONTENT.url(delivery_id=delivery.pk),
        headers={**headers, "Range": f"bytes={start}-", "If-Range": f'"{delivery.sha256}"'},
    )

    assert answer.status_code == 206
    assert answer["Content-Range"] == f"bytes {start}-{len(LARGE) - 1}/{len(LARGE)}"
    assert _body(answer) == LARGE[start:]


def test_a_small_file_comes_whole_from_the_bucket(
    device: tuple[Device, Client, dict[str, str]],
) -> None:
    owner, client, headers = device
    delivery = _queue(owner, b"<Invoice>small</Invoice>", "small")

    answer = client.get(
        routes.CONTENT.url(delivery_id=delivery.pk), headers={**headers, "Range": "bytes=-8"}
    )

    assert (answer.status_code, answer.content) == (206, b"Invoice>")


@pytest.mark.parametrize("sizes", [("small", "small"), ("small", "large")])
def test_a_bundle_holds_each_file_after_its_header(
    device: tuple[Device, Client, dict[str, str]], sizes: tuple[str, str]
) -> None:
    owner, client, headers = device
    contents = [
        LARGE if size == "large" else f"<Invoice>{index}</Invoice>".encode()
        for index, size in enumerate(sizes)
    ]
    deliveries = [_queue(owner, data, f"bundled-{i}") for i, data in enumerate(contents)]

    answer = client.post(
        routes.CONTENTS.url(),
        {"ids": [delivery.pk for delivery in deliveries]},
        content_type="application/json",
        headers=headers,
    )

    assert answer["Content-Type"] == BUNDLE_MEDIA_TYPE
    body = _body(answer)
    for delivery, data in zip(deliveries, contents, strict=True):
        header_line, _, body = body.partition(b"\n")
        header = json.loads(header_line)
        assert (header["id"], header["size"], header["sha256"]) == (
            delivery.pk,
            len(data),
            delivery.sha256,
        )
        assert body[: len(data)] == data
        body = body[len(data) :]
    assert body == b""
