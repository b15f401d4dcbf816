"""The device API (`<server>/api/device/v1/`) over one keep-alive httpx client.

Network faults, 5xx and 429 are retried here with exponential backoff and jitter; after a few
tries `ServerUnavailable` tells the caller to come back later. A 401 is never retried: the
credential is gone and only a new pairing helps.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, BinaryIO, TypeVar
from urllib.parse import urljoin, urlsplit

import httpx
from pydantic import BaseModel, ValidationError

from ledgerdrop_agent import __version__
from ledgerdrop_protocol import (
    AckBatch,
    AckResult,
    FailReport,
    Offers,
    PairingRequest,
    PairingStarted,
    Problem,
    TokenError,
    TokenGranted,
    TokenRequest,
)
from ledgerdrop_protocol.models import BundlePart, ContentsRequest

API_PATH = "/api/device/v1/"
MAX_WAIT = 60  # the server clamps longer long-polls anyway
_RETRIABLE = frozenset({408, 429, 500, 502, 503, 504})

_Model = TypeVar("_Model", bound=BaseModel)
_jitter = random.SystemRandom()


class ClientError(Exception):
    pass


class Unauthorized(ClientError):
    """The server does not know this device's credential any more (revoked or unknown)."""


class ServerUnavailable(ClientError):
    """The server could not be reached, or answered with errors, for every retry."""


class ProblemError(ClientError):
    """The server refused the request (a 4xx with problem details)."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message())
        self.problem = problem


@dataclass(frozen=True)
class Backoff:
    base: float = 0.5
    cap: float = 30.0

    def delay(self, attempt: int) -> float:
        # "Equal jitter": never less than half the step, so that a fleet of agents coming back
        # after an outage spreads out without hammering the server in lockstep.
        step = min(self.cap, self.base * 2.0**attempt)
        return step / 2 + _jitter.uniform(0, step / 2)


def _retry_after(response: httpx.Response) -> float:
    """The seconds of a `Retry-After: <seconds>` header, 0 without one (or with a date)."""
    try:
        return max(0.0, float(response.headers.get("Retry-After", "0")))
    except ValueError:
        return 0.0


def normalise_server(server: str) -> str:
    parts = urlsplit(server.strip())
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ValueError(f"{server!r} is not a server address like https://ledgerdrop.example.com")
    return server.strip().rstrip("/")


class DeviceClient:
    """Thread-safe: the download threads share its connection pool."""

    def __init__(
        self,
        server: str,
        token: str | None = None,
        *,
        backoff: Backoff | None = None,
        attempts: int = 4,
        timeout: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.server = normalise_server(server)
        self.backoff = backoff or Backoff()
        self.attempts = attempts
        self._sleep = sleep
        self._timeout = timeout
        headers = {"User-Agent": f"ledgerdrop-agent/{__version__}", "Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.Client(
            base_url=self.server + API_PATH,
            headers=headers,
            timeout=timeout,
            limits=httpx.Limits(max_connections=16, max_keepalive_connections=16),
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> DeviceClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- pairing (no credential yet) --------------------------------------------------------

    def start_pairing(self, request: PairingRequest) -> PairingStarted:
        response = self._send("POST", "pairings", json=_body(request))
        return _parse(PairingStarted, self._expect(response, 200))

    def request_token(self, request: TokenRequest) -> TokenGranted | TokenError:
        response = self._send("POST", "token", json=_body(request, exclude_defaults=True))
        if response.status_code == 400:
            try:
                return TokenError.model_validate_json(response.content)
            except ValidationError:
                pass
        return _parse(TokenGranted, self._expect(response, 200))

    # -- deliveries ---------------------------------------------------------------------------

    def offers(self, *, wait: int, limit: int, state: str = "") -> Offers:
        """The files to place; `state` is the token of the last answer, so that the server
        answers at once when the folders or the main folder changed since."""
        wait = max(0, min(wait, MAX_WAIT))
        response = self._send(
            "GET",
            "deliveries",
            params={"wait": wait, "limit": limit, "state": state},
            timeout=httpx.Timeout(self._timeout, read=wait + self._timeout),
        )
        return _parse(Offers, self._expect(response, 200))

    def download(self, content_url: str, out: BinaryIO) -> None:
        """Write the bytes at `content_url` into `out`, resuming with Range after a cut."""
        url = self.resolve(content_url)
        failure = ""
        for attempt in range(self.attempts):
            if attempt:
                self._sleep(self.backoff.delay(attempt - 1))
            offset = out.tell()
            headers = {"Range": f"bytes={offset}-"} if offset else {}
            try:
                with self._http.stream("GET", url, headers=headers) as response:
                    if response.status_code in _RETRIABLE or response.status_code == 416:
                        response.read()
                        failure = f"HTTP {response.status_code}"
                        if response.status_code == 416:
                            _restart(out)
                        continue
                    if response.status_code == 206 and _range_start(response) != offset:
                        response.read()
                        failure = "answer to a Range request did not start where asked"
                        _restart(out)
                        continue
                    if response.status_code == 200:
                        _restart(out)  # the server ignored Range: start over
                    elif response.status_code != 206:
                        response.read()
                        self._expect(response, 200)
                    for chunk in response.iter_bytes():
                        out.write(chunk)
                    return
            except httpx.TransportError as exc:
                failure = _describe(exc)
        raise ServerUnavailable(f"GET {url}: {failure}")

    def download_many(self, ids: list[int]) -> dict[int, bytes] | None:
        """The bytes of several deliveries in one request, by id; None from a server that has
        no bundles (then each file is fetched on its own). Ids the server left out are missing
        from the answer."""
        response = self._send("POST", "deliveries/contents", json=_body(ContentsRequest(ids=ids)))
        if response.status_code in {404, 405}:
            return None
        return read_bundle(self._expect(response, 200).content)

    def ack(self, batch: AckBatch) -> AckResult:
        response = self._send("POST", "acks", json=_body(batch))
        return _parse(AckResult, self._expect(response, 200))

    def fail(self, delivery_id: int, report: FailReport) -> None:
        response = self._send("POST", f"deliveries/{delivery_id}/fail", json=_body(report))
        self._expect(response, 200, 204)

    def resolve(self, content_url: str) -> str:
        """The absolute address of a content URL; the token never goes to another server."""
        url = urljoin(self.server + "/", content_url)
        mine, theirs = urlsplit(self.server), urlsplit(url)
        if (mine.scheme, mine.netloc) != (theirs.scheme, theirs.netloc):
            raise ProblemError(
                Problem(
                    title="Content on another server",
                    status=400,
                    detail=f"refusing to send this device's credential to {url}",
                )
            )
        return url

    # -- plumbing ---------------------------------------------------------------------------

    def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        failure = ""
        asked_to_wait = 0.0
        for attempt in range(self.attempts):
            if attempt:
                self._sleep(max(self.backoff.delay(attempt - 1), asked_to_wait))
            try:
                response = self._http.request(method, url, **kwargs)
            except httpx.TransportError as exc:
                failure = _describe(exc)
                continue
            if response.status_code not in _RETRIABLE:
                return response
            failure = f"HTTP {response.status_code}"
            # A busy server (503, 429) says when to come back; never longer than our own cap.
            asked_to_wait = min(_retry_after(response), self.backoff.cap)
        raise ServerUnavailable(f"{method} {self.server}{API_PATH}{url}: {failure}")

    def _expect(self, response: httpx.Response, *statuses: int) -> httpx.Response:
        if response.status_code in statuses:
            return response
        problem = _problem(response)
        if response.status_code == 401:
            raise Unauthorized(problem.message())
        if 400 <= response.status_code < 500:
            raise ProblemError(problem)
        raise ServerUnavailable(f"unexpected answer {problem.message()}")


def read_bundle(data: bytes) -> dict[int, bytes]:
    """Split a bundle: per file a `BundlePart` JSON line, then exactly its `size` bytes."""
    files: dict[int, bytes] = {}
    position = 0
    while position < len(data):
        end = data.find(b"\n", position)
        if end < 0:
            raise ServerUnavailable("a bundle ended inside a header")
        try:
            part = BundlePart.model_validate_json(data[position:end])
        except ValidationError as exc:
            raise ServerUnavailable(f"unreadable bundle header: {exc}") from exc
        position = end + 1 + part.size
        if position > len(data):
            raise ServerUnavailable(f"a bundle ended inside delivery {part.id}")
        files[part.id] = data[end + 1 : position]
    return files


def _body(model: BaseModel, *, exclude_defaults: bool = False) -> Any:
    return model.model_dump(mode="json", exclude_none=True, exclude_defaults=exclude_defaults)


def _parse(model: type[_Model], response: httpx.Response) -> _Model:
    try:
        return model.model_validate_json(response.content)
    except ValidationError as exc:
        # Most likely a proxy's HTML page or a server of another protocol version: try later.
        raise ServerUnavailable(f"unreadable answer from {response.url}: {exc}") from exc


def _problem(response: httpx.Response) -> Problem:
    try:
        return Problem.model_validate_json(response.content)
    except ValidationError:
        return Problem(
            title=f"HTTP {response.status_code} {response.reason_phrase}",
            status=response.status_code,
            detail=response.text[:200],
        )


def _range_start(response: httpx.Response) -> int | None:
    # "Content-Range: bytes 100-199/200"
    value = response.headers.get("Content-Range", "")
    unit, _, rest = value.partition(" ")
    start = rest.partition("-")[0]
    return int(start) if unit == "bytes" and start.isdigit() else None


def _restart(out: BinaryIO) -> None:
    out.seek(0)
    out.truncate()


def _describe(exc: httpx.TransportError) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
