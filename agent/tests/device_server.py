"""A small real HTTP server speaking the device API contract, with faults on demand.

It runs in a thread of the test process and answers over loopback, so the agent's real httpx
client, retries and Range handling are exercised; only the Django service is left out (the
system tests cover that one).
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ledgerdrop_protocol import routes
from ledgerdrop_protocol.models import BUNDLE_MEDIA_TYPE

TOKEN = "device-token-of-the-tests"


def _delivery_id(route: routes.Route, path: str) -> int | None:
    """The delivery named in `path` when it is a request to `route`, else None."""
    pattern = re.escape(route.url(delivery_id="ID")).replace("ID", r"(\d+)")
    match = re.fullmatch(pattern, path)
    return int(match[1]) if match else None


@dataclass
class Delivery:
    id: int
    relative_path: str
    content: bytes
    state: str = "queued"  # queued, delivered, failed
    placed_path: str | None = None
    fail_reason: str | None = None
    corrupt_downloads: int = 0  # how many next downloads serve wrong bytes
    cut_downloads: int = 0  # how many next downloads drop the connection half-way
    # Hostile answers: `flood` bytes instead of the content (announced in Content-Length or
    # not), or the content one byte every `trickle` seconds.
    flood: int = 0
    flood_announced: bool = True
    trickle: float = 0.0
    sent: int = 0  # bytes of hostile answers the connection took before it was dropped

    @property
    def hostile(self) -> bool:
        return bool(self.cut_downloads or self.corrupt_downloads or self.flood or self.trickle)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


@dataclass
class DeviceServer:
    root_folder: str = "/nonexistent"
    folders: list[str] = field(default_factory=list)
    deliveries: dict[int, Delivery] = field(default_factory=dict)
    token_answers: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    revoked: bool = False
    unavailable: int = 0  # answer 503 to this many next requests
    retry_after: str = ""  # the Retry-After header of those 503s, if any
    refused_acks: set[int] = field(default_factory=set)  # answer 409 to a batch with these
    ack_batches: list[list[dict[str, Any]]] = field(default_factory=list)
    fail_reports: dict[int, dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    token_requests: list[dict[str, Any]] = field(default_factory=list)
    pairing_interval: int = 1
    bundles: bool = True  # False: an older server without `POST deliveries/contents`
    pages: bool = True  # False: an older server that ignores `after` in `GET deliveries`
    offer_queries: list[dict[str, str]] = field(default_factory=list)  # of `GET deliveries`
    corrupt_bundles: int = 0  # how many next bundles carry wrong bytes
    cut_bundles: int = 0  # how many next bundles drop the connection half-way
    lying_bundles: int = 0  # how many next bundles announce each file 1 MB bigger than offered
    content_requests: threading.Event = field(default_factory=threading.Event)
    statuses: list[dict[str, Any]] = field(default_factory=list)  # `POST status` bodies
    status_endpoint: bool = True  # False: an older server without it

    def __post_init__(self) -> None:
        self.lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> DeviceServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def add(self, relative_path: str, content: bytes) -> Delivery:
        with self.lock:
            delivery = Delivery(len(self.deliveries) + 1, relative_path, content)
            self.deliveries[delivery.id] = delivery
        return delivery

    def paths(self, method: str) -> list[str]:
        return [path for m, path, _ in self.requests if m == method]


def _handler_for(server: DeviceServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out in two writes

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            self._route("GET")

        def do_POST(self) -> None:
            self._route("POST")

        def _route(self, method: str) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body: dict[str, Any] = json.loads(self.rfile.read(length)) if length else {}
            with server.lock:
                server.requests.append((method, parts.path, dict(self.headers.items())))
                if server.unavailable:
                    server.unavailable -= 1
                    body = {"title": "Service Unavailable", "status": 503}
                    if server.retry_after:
                        return self._send(
                            503, json.dumps(body).encode(), {"Retry-After": server.retry_after}
                        )
                    return self._json(503, body)
            path = parts.path
            if method == "POST" and path == routes.PAIRINGS.url():
                return self._json(200, _pairing_started(server))
            if method == "POST" and path == routes.TOKEN.url():
                server.token_requests.append(body)
                status, answer = server.token_answers.pop(0)
                return self._json(status, answer)
            if self.headers.get("Authorization") != f"Bearer {TOKEN}" or server.revoked:
                return self._json(401, {"title": "Unknown or revoked credential", "status": 401})
            if method == "GET" and path == routes.OFFERS.url():
                return self._json(200, _offers(server, parse_qs(parts.query)))
            content_of, fail_of = (
                _delivery_id(routes.CONTENT, path),
                _delivery_id(routes.FAIL, path),
            )
            delivery_id = content_of if content_of is not None else fail_of
            delivery = None if delivery_id is None else server.deliveries.get(delivery_id)
            if delivery_id is not None and delivery is None:
                return self._json(404, {"title": "No such delivery", "status": 404})
            if delivery and method == "GET" and content_of is not None:
                return self._content(delivery)
            if method == "POST" and path == routes.CONTENTS.url() and server.bundles:
                return self._bundle(body["ids"])
            if method == "POST" and path == routes.STATUS.url() and server.status_endpoint:
                server.statuses.append(body)
                return self._send(204, b"", {})
            if method == "POST" and path == routes.ACKS.url():
                if server.refused_acks & {ack["id"] for ack in body["acks"]}:
                    return self._json(409, {"title": "Delivery was cancelled", "status": 409})
                return self._json(200, _acks(server, body))
            if delivery and method == "POST" and fail_of is not None:
                with server.lock:
                    server.fail_reports[delivery.id] = body
                    delivery.state = "failed"
                return self._send(204, b"", {})
            return self._json(404, {"title": "Not Found", "status": 404})

        def _content(self, delivery: Delivery) -> None:
            server.content_requests.set()
            if delivery.flood:
                return self._flood(delivery)
            if delivery.trickle:
                return self._trickle(delivery)
            data = delivery.content
            with server.lock:
                corrupt = delivery.corrupt_downloads > 0
                cut = delivery.cut_downloads > 0
                delivery.corrupt_downloads -= corrupt
                delivery.cut_downloads -= cut
            if corrupt:
                data = bytes(b ^ 0xFF for b in data)
            headers = {"ETag": f'"{delivery.sha256}"', "Accept-Ranges": "bytes"}
            status, start = 200, 0
            if match := re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range", "")):
                status, start = 206, int(match[1])
                headers["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
            body = memoryview(data)[start:]  # no copy: tests measure the agent's memory
            if cut:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.close_connection = True
                return None
            return self._send(status, body, headers)

        def _bundle(self, ids: list[int]) -> None:
            with server.lock:
                corrupt = server.corrupt_bundles > 0
                server.corrupt_bundles -= corrupt
                cut = server.cut_bundles > 0
                server.cut_bundles -= cut
                lying = server.lying_bundles > 0
                server.lying_bundles -= lying
                # A delivery with faults planned for its downloads is left out, as the real
                # server leaves out what it cannot send: the agent then fetches it alone.
                found = [d for i in ids if (d := server.deliveries.get(i)) and not d.hostile]
            parts: list[bytes | memoryview] = []
            for delivery in found:
                data = bytes(b ^ 0xFF for b in delivery.content) if corrupt else delivery.content
                if lying:
                    data = data + bytes(1 << 20)
                header = {"id": delivery.id, "size": len(data), "sha256": delivery.sha256}
                parts += [json.dumps(header).encode() + b"\n", memoryview(data)]
            length = sum(len(part) for part in parts)
            self.send_response(200)
            self.send_header("Content-Type", BUNDLE_MEDIA_TYPE)
            self.send_header("Content-Length", str(length))
            self.end_headers()
            # Part by part, never joined: tests measure the agent's memory in this process.
            budget = length // 2 if cut else length
            for part in parts:
                self.wfile.write(part[:budget])
                budget -= min(budget, len(part))
            if cut:
                self.wfile.flush()
                self.close_connection = True

        def _flood(self, delivery: Delivery) -> None:
            self.send_response(200)
            if delivery.flood_announced:
                self.send_header("Content-Length", str(delivery.flood))
            else:  # delimited by closing the connection, as HTTP/1.0 did
                self.send_header("Connection", "close")
            self.end_headers()
            block = bytes(64 << 10)
            self.close_connection = True
            try:
                while delivery.sent < delivery.flood:
                    self.wfile.write(block)
                    delivery.sent += len(block)
            except OSError:
                pass  # the agent hung up: what it took is counted

        def _trickle(self, delivery: Delivery) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(len(delivery.content)))
            self.end_headers()
            self.close_connection = True
            try:
                for byte in delivery.content:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    delivery.sent += 1
                    time.sleep(delivery.trickle)
            except OSError:
                pass

        def _json(self, status: int, payload: dict[str, Any]) -> None:
            content_type = "application/problem+json" if status >= 400 else "application/json"
            return self._send(status, json.dumps(payload).encode(), {"Content-Type": content_type})

        def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


def _pairing_started(server: DeviceServer) -> dict[str, Any]:
    return {
        "device_code": "device-code-1",
        "user_code": "WDJB-MJHT",
        "verification_uri": f"{server.url}/devices/pair",
        "verification_uri_complete": f"{server.url}/devices/pair?code=WDJB-MJHT",
        "expires_in": 600,
        "interval": server.pairing_interval,
    }


def _offers(server: DeviceServer, query: dict[str, list[str]]) -> dict[str, Any]:
    limit = int(query.get("limit", ["100"])[0])
    after = int(query["after"][0]) if "after" in query and server.pages else 0
    with server.lock:
        server.offer_queries.append({name: values[0] for name, values in query.items()})
        queued = [d for d in server.deliveries.values() if d.state == "queued" and d.id > after][
            :limit
        ]
    return {
        "settings": {"root_folder": server.root_folder},
        "folders": server.folders,
        "deliveries": [
            {
                "id": d.id,
                "relative_path": d.relative_path,
                "size": len(d.content),
                "sha256": d.sha256,
                "content_url": routes.CONTENT.url(delivery_id=d.id),
            }
            for d in queued
        ],
    }


def _acks(server: DeviceServer, body: dict[str, Any]) -> dict[str, Any]:
    with server.lock:
        server.ack_batches.append(body["acks"])
        for ack in body["acks"]:
            delivery = server.deliveries[ack["id"]]
            delivery.state = "delivered"
            delivery.placed_path = ack["placed_path"]
    return {"acknowledged": [ack["id"] for ack in body["acks"]]}
