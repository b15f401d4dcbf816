"""The firm's *Download devices* pages: the list with health, pairing by code, enrolment keys,
a device's settings, revocation, and how to install the downloader.

And `/downloads/agent/`, with no sign-in: the downloader this server hands out (API.md,
*Downloads*). The scripts are the same for everybody: the enrolment key travels in the command
the firm's page shows, never in a file served here."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from ledgerdrop.accounts.models import Organisation
from ledgerdrop.accounts.tenancy import firm_for, organisations_of
from ledgerdrop.core.errors import ServiceError
from ledgerdrop.core.problems import problem_response
from ledgerdrop.core.refusals import show_refusal
from ledgerdrop.delivery import downloads, services
from ledgerdrop.delivery.api import pair_command, server_url
from ledgerdrop.delivery.forms import DeviceSettingsForm, PairingCodeForm
from ledgerdrop.delivery.models import Delivery, Device

RECENT_FAILURES = 20


def _page(request: HttpRequest, template: str, firm: Organisation, **context: Any) -> HttpResponse:
    return render(request, template, {"firm": firm, "section": "devices", **context})


@login_required
def devices(request: HttpRequest, firm_id: int) -> HttpResponse:
    firm = firm_for(request.user, firm_id)
    failures = (
        Delivery.objects.filter(firm=firm, state=Delivery.State.FAILED, device__revoked_at=None)
        .select_related("device")
        .order_by("-failed_at")[:RECENT_FAILURES]
    )
    return _page(
        request,
        "delivery/devices.html",
        firm,
        devices=services.device_health(firm),
        failures=failures,
        pair_form=PairingCodeForm(),
    )


@login_required
def pair_entry(request: HttpRequest) -> HttpResponse:
    """Where `ledgerdrop-agent pair` sends people: straight to their firm's pairing page, or
    a choice when they work for several firms."""
    firms = [o for o in organisations_of(request.user) if o.kind == Organisation.Kind.FIRM]
    query = urlencode({"code": request.GET["code"]}) if request.GET.get("code") else ""
    links = [
        (firm, reverse("device-pair-firm", args=[firm.pk]) + (f"?{query}" if query else ""))
        for firm in firms
    ]
    if len(links) == 1:
        return redirect(links[0][1])
    return render(request, "delivery/pair_choose_firm.html", {"links": links})


@login_required
def pair(request: HttpRequest, firm_id: int) -> HttpResponse:
    """The RFC 8628 verification page: enter or confirm the code, see the device's facts,
    approve or deny."""
    firm = firm_for(request.user, firm_id)
    user = request.user
    if request.method == "POST":
        form = PairingCodeForm(request.POST)
    elif request.GET.get("code"):
        form = PairingCodeForm({"user_code": request.GET["code"]})
    else:
        return _page(request, "delivery/pair.html", firm, form=PairingCodeForm(), pairing=None)
    pairing = None
    if form.is_valid():
        code = form.cleaned_data["user_code"]
        try:
            if "approve" in request.POST:
                name = form.cleaned_data["name"] or None
                device = services.approve_pairing(firm, code, name=name, by=user)  # type: ignore[arg-type]
                messages.success(request, _("%(name)s is paired.") % {"name": device.name})
                return redirect("devices", firm_id=firm.pk)
            if "deny" in request.POST:
                refused = services.deny_pairing(firm, code, by=user)  # type: ignore[arg-type]
                messages.success(
                    request,
                    _("The pairing of %(name)s was refused.") % {"name": refused.name},
                )
                return redirect("devices", firm_id=firm.pk)
            pairing = services.check_user_code(firm, code, by=user)  # type: ignore[arg-type]
        except ServiceError as refusal:
            show_refusal(request, refusal, form=form, field="user_code")
    return _page(request, "delivery/pair.html", firm, form=form, pairing=pairing)


@login_required
@require_POST
def enrolment_key(request: HttpRequest, firm_id: int) -> HttpResponse:
    """Mint a one-time key; it is shown on this answer only, never stored in clear."""
    firm = firm_for(request.user, firm_id)
    minted, key = services.mint_enrolment_key(firm, by=request.user)  # type: ignore[arg-type]
    return _page(
        request,
        "delivery/enrolment_key.html",
        firm,
        key=key,
        expires_at=minted.expires_at,
        command=pair_command(request, enrolment_key=key),
        install=downloads.install_commands(server_url(request), key),
    )


def _device(firm: Organisation, device_id: int) -> Device:
    return get_object_or_404(
        Device.objects.active().select_related("firm"), firm=firm, pk=device_id
    )


@login_required
def device_settings(request: HttpRequest, firm_id: int, device_id: int) -> HttpResponse:
    firm = firm_for(request.user, firm_id)
    device = _device(firm, device_id)
    initial = {
        "name": device.name,
        "root_folder": device.root_folder,
        "is_shared_server": device.is_shared_server,
    }
    form = DeviceSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_device(
                device,
                name=form.cleaned_data["name"],
                root_folder=form.cleaned_data["root_folder"],
                is_shared_server=form.cleaned_data["is_shared_server"],
                by=request.user,  # type: ignore[arg-type]
            )
        except ServiceError as refusal:
            # A main folder the connections' files would not fit below is the folder's fault:
            # the refusal stands at that field, as the form's own checks of the folder do.
            field = "root_folder" if refusal.code == "main_folder_too_long" else None
            show_refusal(request, refusal, form=form, field=field)
        else:
            name = {"name": device.name}
            messages.success(request, _("The settings of %(name)s are saved.") % name)
            return redirect("devices", firm_id=firm.pk)
    return _page(request, "delivery/device_settings.html", firm, device=device, form=form)


@login_required
def revoke(request: HttpRequest, firm_id: int, device_id: int) -> HttpResponse:
    firm = firm_for(request.user, firm_id)
    device = _device(firm, device_id)
    if request.method == "POST":
        services.revoke_device(device, by=request.user)  # type: ignore[arg-type]
        messages.success(
            request,
            _("%(name)s is revoked: it can no longer fetch documents.") % {"name": device.name},
        )
        return redirect("devices", firm_id=firm.pk)
    return _page(request, "delivery/device_revoke.html", firm, device=device)


@login_required
def downloader(request: HttpRequest, firm_id: int) -> HttpResponse:
    """The install commands, each with a fresh one-time key: a command copied from here pairs
    at once, and one per system lets the PC and the server be installed from the same visit."""
    firm = firm_for(request.user, firm_id)
    server = server_url(request)
    user = request.user
    _, linux_key = services.mint_enrolment_key(firm, by=user)  # type: ignore[arg-type]
    minted, windows_key = services.mint_enrolment_key(firm, by=user)  # type: ignore[arg-type]
    return _page(
        request,
        "delivery/downloader.html",
        firm,
        linux_command=downloads.install_commands(server, linux_key).linux,
        windows_command=downloads.install_commands(server, windows_key).windows,
        expires_at=minted.expires_at,
        keyless=downloads.install_commands(server),
        index_url=f"{server}{reverse('downloads-agent')}",
        windows_folder=Device.default_root_folder("Windows"),
        posix_folder=Device.default_root_folder("Linux"),
    )


# ---- /downloads/agent/: the downloader this server hands out --------------------------------

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
