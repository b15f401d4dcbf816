"""Where each request of the device protocol v1 goes: one definition for the service (its route
declarations and the long-poll gate in front of Django), the downloader and the tests."""

from __future__ import annotations

from dataclasses import dataclass

PREFIX = "/api/device/v1"


@dataclass(frozen=True)
class Route:
    # Below PREFIX, with the path parameters in braces as django-ninja and OpenAPI write them.
    path: str

    def url(self, **parameters: int | str) -> str:
        """The request path on a server: `CONTENT.url(delivery_id=7)` is
        `/api/device/v1/deliveries/7/content`."""
        return PREFIX + self.path.format(**parameters)


PAIRINGS = Route("/pairings")  # POST: start pairing (RFC 8628 device authorization)
TOKEN = Route("/token")  # POST: a device code or enrolment key for the credential
OFFERS = Route("/deliveries")  # GET: the long-poll for what to place
CONTENT = Route("/deliveries/{delivery_id}/content")  # GET: one delivery's bytes
CONTENTS = Route("/deliveries/contents")  # POST: several deliveries' bytes in one answer
ACKS = Route("/acks")  # POST: deliveries placed
FAIL = Route("/deliveries/{delivery_id}/fail")  # POST: a delivery that cannot be placed
STATUS = Route("/status")  # POST: what the device found in its main folder
