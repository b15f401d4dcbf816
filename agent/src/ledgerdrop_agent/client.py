"""The device API (its routes in `ledgerdrop_protocol.routes`) over one keep-alive httpx client.

Network faults, 5xx and 429 are retried here with exponential backoff and jitter; after a few
tries `ServerUnavailable` tells the caller to come back later. A 401 is never retried: the
credential is gone and only a new pairing helps.

The byte stream is not trusted: a download stops at the size the offer announced, every answer
is read within an overall deadline and above a minimum rate, and `cancel()` ends whatever is in
flight, so that a hostile or broken server can neither fill the disk or the memory nor hold the
downloader hostage.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, BinaryIO, TypeVar
from urllib.parse import urljoin, urlsplit

import httpx
from pydantic import BaseModel, ValidationError

from ledgerdrop_agent import __version__
from ledgerdrop_protocol import (
    AckBatch,
    AckResult,
    DeviceStatus,
    FailReport,
    Offers,
    PairingRequest,
    PairingStarted,
    Problem,
    TokenError,
    TokenGranted,
    TokenRequest,
    routes,
)
from ledgerdrop_protocol.models import BundlePart, ContentsRequest

MAX_WAIT = 60  # the server clamps longer long-polls anyway
_RETRIABLE = frozenset({408, 429, 500, 502, 503, 504})
# A JSON answer (offers, acks) is a few hundred kilobytes at most; anything far beyond is not
# an answer of this protocol and must not be read into memory.
MAX_JSON_ANSWER = 32 << 20
MAX_BUNDLE_HEADER = 1024  # one `BundlePart` line
# Contents travel as sent, so that the bytes counted against a size are the bytes received
# (a compressed body could inflate far beyond what was read).
IDENTITY = "identity"

_Model = TypeVar("_Model", bound=BaseModel)
_jitter = random.SystemRandom()


class ClientError(Exception):
    pass


class Unauthorized(ClientError):
    """The server does not know this device's credential any more (revoked or unknown)."""


class ServerUnavailable(ClientError):
    """The server could not be reached, or answered with errors, for every retry."""


class TooSlow(ServerUnavailable):
    """An answer came slower than the minimum rate, or not within its deadline."""


class ContentTooLong(ClientError):
    """The server sent more bytes than the offer announced: nothing of it is kept."""


class Cancelled(ClientError):
    """The downloader is stopping: what was in flight is dropped, the journal keeps the rest."""


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


@dataclass(frozen=True)
class TransferLimits:
    """How long reading an answer may take: `min_rate` bytes per second over every `window`
    seconds (a silence of `window` seconds is a stall), and at most `grace` seconds plus the
    time the expected size takes at `min_rate`, retries included. Far below any real line, so
    that only a trickling or stuck server hits them."""

    min_rate: float = 4096.0
    window: float = 30.0
    grace: float = 60.0


class _Meter:
    """Checks each chunk of an answer against the limits and the stop request."""

    def __init__(
        self, limits: TransferLimits, expected: int, cancelled: threading.Event, what: str
    ) -> None:
        self._limits = limits
        self._cancelled = cancelled
        self._what = what
        self._budget = limits.grace + expected / limits.min_rate
        self._deadline = time.monotonic() + self._budget
        self.restart_window()

    def restart_window(self) -> None:
        self._check_time()
        self._window_start = time.monotonic()
        self._window_bytes = 0

    def add(self, count: int) -> None:
        self._check_time()
        self._window_bytes += count
        elapsed = time.monotonic() - self._window_start
        if elapsed >= self._limits.window:
            rate = self._window_bytes / elapsed
            if rate < self._limits.min_rate:
                raise TooSlow(
                    f"{self._what}: {rate:.0f} bytes/s over {elapsed:.0f} s, "
                    f"below the minimum of {self._limits.min_rate:.0f} bytes/s"
                )
            self._window_start, self._window_bytes = time.monotonic(), 0

    def _check_time(self) -> None:
        if self._cancelled.is_set():
            raise Cancelled(f"{self._what}: stopped")
        if time.monotonic() > self._deadline:
            raise TooSlow(f"{self._what}: not complete after {self._budget:.0f} s")


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
        sleep: Callable[[float], None] | None = None,
        limits: TransferLimits | None = None,
    ) -> None:
        self.server = normalise_server(server)
        self.backoff = backoff or Backoff()
        self.attempts = attempts
        self.limits = limits or TransferLimits()
        self._cancelled = threading.Event()
        self._sleep = sleep or self._cancelled.wait
        self._timeout = timeout
        headers = {"User-Agent": f"ledgerdrop-agent/{__version__}", "Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.Client(
            base_url=self.server,
            headers=headers,
            timeout=timeout,
            limits=httpx.Limits(max_connections=16, max_keepalive_connections=16),
        )

    def close(self) -> None:
        self._http.close()

    def cancel(self) -> None:
        """Stop: every call in flight or to come raises `Cancelled` at its next chunk or try."""
        self._cancelled.set()

    def __enter__(self) -> DeviceClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- pairing (no credential yet) --------------------------------------------------------

    def start_pairing(self, request: PairingRequest) -> PairingStarted:
        response = self._send("POST", routes.PAIRINGS.url(), json=_body(request))
        return _parse(PairingStarted, self._expect(response, 200))

    def request_token(self, request: TokenRequest) -> TokenGranted | TokenError:
        response = self._send(
            "POST", routes.TOKEN.url(), json=_body(request, exclude_defaults=True)
        )
        if response.status_code == 400:
            try:
                return TokenError.model_validate_json(response.content)
            except ValidationError:
                pass
        return _parse(TokenGranted, self._expect(response, 200))

    # -- deliveries ---------------------------------------------------------------------------

    def offers(self, *, wait: int, limit: int, state: str = "", after: int | None = None) -> Offers:
        """The files to place; `state` is the token of the last answer, so that the server
        answers at once when the folders or the main folder changed since; `after`: only
        deliveries with a greater id (the next page; an older server ignores it)."""
        wait = max(0, min(wait, MAX_WAIT))
        params: dict[str, str | int] = {"wait": wait, "limit": limit, "state": state}
        if after is not None:
            params["after"] = after
        response = self._send(
            "GET",
            routes.OFFERS.url(),
            params=params,
            timeout=httpx.Timeout(self._timeout, read=wait + self._timeout),
        )
        return _parse(Offers, self._expect(response, 200))

    def download(self, content_url: str, out: BinaryIO, size: int) -> None:
        """Write the `size` bytes at `content_url` into `out`, resuming with Range after a cut.
        A byte beyond `size` ends the download with `ContentTooLong`."""
        url = self.resolve(content_url)
        meter = _Meter(self.limits, size, self._cancelled, f"GET {url}")
        failure = ""
        for attempt in range(self.attempts):
            if attempt:
                self._pause(attempt)
            meter.restart_window()
            offset = out.tell()
            headers = {"Range": f"bytes={offset}-"} if offset else {}
            headers["Accept-Encoding"] = IDENTITY
            try:
                with self._http.stream(
                    "GET", url, headers=headers, timeout=self._stream_timeout()
                ) as response:
                    if response.status_code in _RETRIABLE or response.status_code == 416:
                        failure = f"HTTP {response.status_code}"
                        if response.status_code == 416:
                            _restart(out)
                        continue
                    if response.status_code == 206 and _range_start(response) != offset:
                        failure = "answer to a Range request did not start where asked"
                        _restart(out)
                        continue
                    if response.status_code == 200:
                        _restart(out)  # the server ignored Range: start over
                    elif response.status_code != 206:
                        self._expect(_read_small(response), 200)
                    _copy(response, out, size, meter)
                    return
            except httpx.TransportError as exc:
                failure = _describe(exc)
        raise ServerUnavailable(f"GET {url}: {failure}")

    def download_many(
        self, expected: Mapping[int, int], on_part: Callable[[BundlePart, memoryview], None]
    ) -> bool:
        """Fetch several deliveries (`expected`: id → announced size) in one request, handing
        each file to `on_part` as soon as its bytes are in: only one file is ever in memory
        (a view into the received bytes, valid during the call).
        False from a server that has no bundles (then each file is fetched on its own); ids the
        server left out are simply not handed over. A bundle that breaks the announced sizes
        raises `ServerUnavailable`, keeping the files handed over before."""
        body = _body(ContentsRequest(ids=list(expected)))
        allowed = sum(expected.values()) + MAX_BUNDLE_HEADER * len(expected)
        url = f"{self.server}{routes.CONTENTS.url()}"
        meter = _Meter(self.limits, allowed, self._cancelled, f"POST {url}")
        failure = ""
        for attempt in range(self.attempts):
            if attempt:
                self._pause(attempt)
            meter.restart_window()
            try:
                with self._http.stream(
                    "POST",
                    routes.CONTENTS.url(),
                    json=body,
                    headers={"Accept-Encoding": IDENTITY},
                    timeout=self._stream_timeout(),
                ) as response:
                    if response.status_code in _RETRIABLE:
                        failure = f"HTTP {response.status_code}"
                        continue
                    if response.status_code in {404, 405}:
                        return False
                    if response.status_code != 200:
                        self._expect(_read_small(response), 200)
                    chunks = _metered(response, allowed, meter)
                    for part, data in _bundle_parts(chunks, expected):
                        on_part(part, data)
                    return True
            except httpx.TransportError as exc:
                # Cut half-way: the files handed over stay; the caller fetches the others.
                raise ServerUnavailable(f"POST {url}: {_describe(exc)}") from exc
        raise ServerUnavailable(f"POST {url}: {failure}")

    def ack(self, batch: AckBatch) -> AckResult:
        response = self._send("POST", routes.ACKS.url(), json=_body(batch))
        return _parse(AckResult, self._expect(response, 200))

    def fail(self, delivery_id: int, report: FailReport) -> None:
        response = self._send("POST", routes.FAIL.url(delivery_id=delivery_id), json=_body(report))
        self._expect(response, 200, 204)

    def report_status(self, status: DeviceStatus) -> bool:
        """Tell the server the state of the main folder; False from a server without the
        endpoint (older than the downloader)."""
        response = self._send("POST", routes.STATUS.url(), json=_body(status))
        if response.status_code in {404, 405}:
            return False
        self._expect(response, 200, 204)
        return True

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
                self._pause(attempt, at_least=asked_to_wait)
            if self._cancelled.is_set():
                raise Cancelled(f"{method} {url}: stopped")
            try:
                with self._http.stream(method, url, **kwargs) as streamed:
                    response = httpx.Response(
                        streamed.status_code,
                        headers=streamed.headers,
                        content=_read_capped(streamed, MAX_JSON_ANSWER),
                        request=streamed.request,
                    )
            except httpx.TransportError as exc:
                failure = _describe(exc)
                continue
            if response.status_code not in _RETRIABLE:
                return response
            failure = f"HTTP {response.status_code}"
            # A busy server (503, 429) says when to come back; never longer than our own cap.
            asked_to_wait = min(_retry_after(response), self.backoff.cap)
        raise ServerUnavailable(f"{method} {self.server}{url}: {failure}")

    def _pause(self, attempt: int, at_least: float = 0.0) -> None:
        self._sleep(max(self.backoff.delay(attempt - 1), at_least))
        if self._cancelled.is_set():
            raise Cancelled("stopped")

    def _stream_timeout(self) -> httpx.Timeout:
        # Silence longer than a rate window is a stall: retried (with Range) or given up.
        return httpx.Timeout(self._timeout, read=self.limits.window)

    def _expect(self, response: httpx.Response, *statuses: int) -> httpx.Response:
        if response.status_code in statuses:
            return response
        problem = _problem(response)
        if response.status_code == 401:
            raise Unauthorized(problem.message())
        if 400 <= response.status_code < 500:
            raise ProblemError(problem)
        raise ServerUnavailable(f"unexpected answer {problem.message()}")


def _copy(response: httpx.Response, out: BinaryIO, size: int, meter: _Meter) -> None:
    """The body into `out`, never past `size` bytes in all (what a Range resume wrote before
    counts): the first byte too many ends the download, before it is written."""
    announced = response.headers.get("Content-Length", "")
    if announced.isdigit() and out.tell() + int(announced) > size:
        raise ContentTooLong(f"the server announced {announced} bytes for a file of {size} bytes")
    for chunk in response.iter_bytes():
        meter.add(len(chunk))
        if out.tell() + len(chunk) > size:
            raise ContentTooLong(f"the server sent more than the {size} bytes of the offer")
        out.write(chunk)


def _metered(response: httpx.Response, allowed: int, meter: _Meter) -> Iterator[bytes]:
    received = 0
    for chunk in response.iter_bytes():
        meter.add(len(chunk))
        received += len(chunk)
        if received > allowed:
            raise ServerUnavailable(f"the bundle is longer than the {allowed} bytes it may be")
        yield chunk


def _bundle_parts(
    chunks: Iterator[bytes], expected: Mapping[int, int]
) -> Iterator[tuple[BundlePart, memoryview]]:
    """Split a bundle as it arrives: per file a `BundlePart` JSON line, then exactly its
    `size` bytes, which must be the size its offer announced. Files are handed over as views
    into the received chunks, not copies; only a file spanning chunks is joined into one."""
    buffer = b""
    view = memoryview(buffer)
    start = 0  # where the unread part of `buffer` begins
    seen: set[int] = set()

    def fill(count: int) -> bool:
        """At least `count` unread bytes in `buffer`, unless the bundle ends first."""
        nonlocal buffer, view, start
        if len(buffer) - start >= count:
            return True
        rest = view[start:]
        received: list[bytes] = []
        have = len(rest)
        while have < count:
            chunk = next(chunks, None)
            if chunk is None:
                break
            received.append(chunk)
            have += len(chunk)
        # A lone chunk is taken as it is; else the unread rest and the chunks are joined.
        buffer = received[0] if not rest and len(received) == 1 else b"".join([rest, *received])
        view, start = memoryview(buffer), 0
        return have >= count

    while fill(1):
        while (end := buffer.find(b"\n", start, start + MAX_BUNDLE_HEADER)) < 0:
            if len(buffer) - start >= MAX_BUNDLE_HEADER:
                raise ServerUnavailable("a bundle header is too long")
            if not fill(len(buffer) - start + 1):
                raise ServerUnavailable("a bundle ended inside a header")
        try:
            part = BundlePart.model_validate_json(buffer[start:end])
        except ValidationError as exc:
            raise ServerUnavailable(f"unreadable bundle header: {exc}") from exc
        if expected.get(part.id) != part.size or part.id in seen:
            raise ServerUnavailable(
                f"the bundle holds delivery {part.id} with {part.size} bytes, "
                "which was not asked for with that size"
            )
        seen.add(part.id)
        start = end + 1
        if not fill(part.size):
            raise ServerUnavailable(f"a bundle ended inside delivery {part.id}")
        data = view[start : start + part.size]
        start += part.size
        yield part, data


def _read_capped(response: httpx.Response, cap: int) -> bytes:
    body = bytearray()
    for chunk in response.iter_bytes():
        body.extend(chunk)
        if len(body) > cap:
            raise ServerUnavailable(f"an answer of more than {cap} bytes from {response.url}")
    return bytes(body)


def _read_small(response: httpx.Response) -> httpx.Response:
    """An error answer read whole (problem details are small), for `_expect` to quote."""
    return httpx.Response(
        response.status_code,
        headers=response.headers,
        content=_read_capped(response, 64 << 10),
        request=response.request,
    )


def read_bundle(data: bytes, expected: Mapping[int, int]) -> dict[int, bytes]:
    """A whole bundle's files by id (`expected`: id → size), checked as `download_many` does."""
    return {part.id: bytes(content) for part, content in _bundle_parts(iter([data]), expected)}


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
