"""`/downloads/agent/`: the downloader this server hands out, with no sign-in (API.md,
*Downloads*). The scripts are the same for everybody: the enrolment key travels in the command
the firm's page shows, never in a file served here."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.template.loader import render_to_string
from django.views.decorators.http import require_safe

from ledgerdrop.core.problems import problem_response
from ledgerdrop.delivery import downloads
from ledgerdrop.delivery.api import server_url

SCRIPT_CONTENT_TYPE = "text/plain; charset=utf-8"
LOGGER = logging.getLogger(__name__)
CHUNK_SIZE = 256 * 1024


@require_safe
def index(request: HttpRequest) -> HttpResponse:
    """A page of links that `pip install --find-links URL` reads; the fragments let pip check
    each file's SHA-256."""
    try:
        wheels = downloads.wheels()
    except downloads.DownloadsUnavailable as exc:
        return _wheels_not_built(exc)
    html = render_to_string(
        "delivery/downloads/index.html",
        {"wheels": wheels, "version": downloads.version_of(downloads.AGENT)},
    )
    return HttpResponse(html)


@require_safe
def wheel(request: HttpRequest, filename: str) -> HttpResponseBase:
    try:
        found = downloads.wheel_named(filename)
    except downloads.DownloadsUnavailable as exc:
        return _wheels_not_built(exc)
    if found is None:
        return problem_response(
            404,
            "No such download",
            f"This server serves no {filename}; the list is at /downloads/agent/.",
            code="not_found",
        )
    return _file_response(found.path, found.name, "application/octet-stream")


@require_safe
def install_sh(request: HttpRequest) -> HttpResponse:
    return _script(request, "delivery/downloads/install.sh", downloads.shell_quoted)


@require_safe
def install_ps1(request: HttpRequest) -> HttpResponse:
    return _script(request, "delivery/downloads/install.ps1", downloads.powershell_quoted)


@require_safe
def windows_zip(request: HttpRequest) -> HttpResponseBase:
    path = downloads.windows_zip()
    try:
        return _file_response(path, downloads.WINDOWS_ZIP, "application/zip")
    except FileNotFoundError:
        LOGGER.warning("%s is missing: %s builds it", path, downloads.WINDOWS_ZIP_COMMAND)
        return _not_built(
            "The Windows downloader is not built on this server: an administrator runs "
            f"`{downloads.WINDOWS_ZIP_COMMAND}` in the project's checkout, which puts "
            f"{downloads.WINDOWS_ZIP} in the downloads folder (LEDGERDROP_DOWNLOADS_DIR)."
        )


def _script(request: HttpRequest, template: str, quoted: Callable[[str], str]) -> HttpResponse:
    text = render_to_string(
        template,
        {
            "server": quoted(server_url(request)),
            "agent_version": quoted(downloads.version_of(downloads.AGENT)),
            "protocol_version": quoted(downloads.version_of(downloads.PROTOCOL)),
        },
    )
    response = HttpResponse(text, content_type=SCRIPT_CONTENT_TYPE)
    # Rendered with this server's address, which may come from the request's host.
    response["Vary"] = "Host"
    return response


def _file_response(path: Path, filename: str, content_type: str) -> HttpResponseBase:
    """The file in chunks read off the event loop: Django would read a file given as a plain
    iterator into memory whole before sending it under ASGI (the zip is some 16 MB)."""
    handle = path.open("rb")
    size = os.fstat(handle.fileno()).st_size

    async def chunks() -> AsyncIterator[bytes]:
        with handle:
            while chunk := await asyncio.to_thread(handle.read, CHUNK_SIZE):
                yield chunk

    response = StreamingHttpResponse(chunks(), content_type=content_type)
    response["Content-Length"] = str(size)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _wheels_not_built(exc: downloads.DownloadsUnavailable) -> HttpResponse:
    # The full reason names the server's folders: for its log, not for anybody on the web.
    LOGGER.warning("%s", exc)
    return _not_built(
        "The downloader's wheels are not built on this server: an administrator runs "
        f"`{downloads.BUILD_COMMAND}` in the project's checkout."
    )


def _not_built(detail: str) -> HttpResponse:
    return problem_response(404, "Download not built", detail, code="download_not_built")
