"""The S3-compatible object store of the tests: moto's stand-alone server, started once per
test process (each xdist worker has its own, on a free loopback port), and a fresh bucket per
test that switches the default storage to it, as LEDGERDROP_S3_BUCKET does."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
import pytest

if TYPE_CHECKING:
    from pytest_django import Settings as SettingsWrapper

REGION = "eu-west-1"
# moto takes any credentials; the service reads them from the usual variables.
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "ledgerdrop-test", "AWS_SECRET_ACCESS_KEY": "ledgerdrop-test"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """The URL of a moto server of this test process, stopped at the end of the session."""
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{endpoint}/moto-api/", timeout=1)
                break
            except httpx.TransportError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the moto server did not start") from None
                time.sleep(0.1)
        yield endpoint
    finally:
        server.terminate()
        server.wait(timeout=10)


@dataclass(frozen=True)
class Bucket:
    name: str
    endpoint: str

    def environment(self) -> dict[str, str]:
        """What a service process needs in its environment to use this bucket."""
        return {
            "LEDGERDROP_S3_BUCKET": self.name,
            "LEDGERDROP_S3_ENDPOINT_URL": self.endpoint,
            "LEDGERDROP_S3_REGION": REGION,
            **CREDENTIALS,
        }

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )


def create_bucket(endpoint: str) -> Bucket:
    bucket = Bucket(name=f"ledgerdrop-{uuid.uuid4().hex[:12]}", endpoint=endpoint)
    bucket.client().create_bucket(
        Bucket=bucket.name, CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    return bucket


@pytest.fixture
def s3_bucket(
    s3_endpoint: str, settings: SettingsWrapper, monkeypatch: pytest.MonkeyPatch
) -> Bucket:
    """A new, empty bucket that this test's default storage uses, set up as the settings do
    with LEDGERDROP_S3_BUCKET."""
    from ledgerdrop.config.object_storage import s3_storage

    bucket = create_bucket(s3_endpoint)
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    settings.LEDGERDROP_S3_BUCKET = bucket.name
    settings.STORAGES = {
        **settings.STORAGES,
        "default": s3_storage(
            bucket.name,
            endpoint_url=s3_endpoint,
            region=REGION,
            connections=settings.LEDGERDROP_REQUEST_THREADS
            + settings.LEDGERDROP_RESERVED_CONNECTIONS,
        ),
    }
    return bucket
