"""The firm's Download devices pages, as an accountant uses them (S3, S5)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.utils import timezone

from ledgerdrop.accounts.models import Organisation, User
from ledgerdrop.core import storage
from ledgerdrop.delivery import services
from ledgerdrop.delivery.models import (
    Delivery,
    Device,
    DevicePairing,
    EnrolmentKey,
    hash_secret,
)
from ledgerdrop_protocol import FailReason, FailReport, PairingRequest
from tests import builders

pytestmark = pytest.mark.django_db

FACTS = PairingRequest(
    name="PC Kevin", hostname="KEVIN-PC", os="Windows 11", os_user="kevin", agent_version="1.0.0"
)


def queue(device: Device, number: int = 1) -> Delivery:
    return services.queue_delivery(
        device,
        relative_path=f"DUPONT/ventes/20261102_2026-{number:04d}.xml",
        blob=storage.put(f"<Invoice>{number}</Invoice>".encode()),
    )


def test_the_firm_menu_leads_to_the_download_devices_page(
    browser: Client, firm: Organisation
) -> None:
    page = browser.get(f"/firms/{firm.pk}/dossiers/").content.decode()

    assert f'href="/firms/{firm.pk}/devices/"' in page


def test_the_devices_page_lists_each_device_with_its_health(
    browser: Client, firm: Organisation
) -> None:
    kevin = services.register_device(
        firm, name="PC Kevin", hostname="KEVIN-PC", os="Windows 11", agent_version="1.0.0"
    ).device
    services.note_contact(kevin)
    queue(kevin, 1)
    queue(kevin, 2)
    services.register_device(firm, name="Serveur partagé", os="Linux 6.1")

    page = browser.get(f"/firms/{firm.pk}/devices/").content.decode()

    for fact in ("PC Kevin", "KEVIN-PC", "Windows 11", "1.0.0", r"c:\bob-demat", "~/bob-demat"):
        assert fact in page
    assert "en ligne" in page and "hors ligne" in page
    [kevin_health] = [h for h in services.device_health(firm) if h.device == kevin]
    assert (kevin_health.backlog, kevin_health.silent) == (2, False)


def test_a_device_silent_for_over_an_hour_with_documents_waiting_is_flagged(
    browser: Client, firm: Organisation
) -> None:
    device = services.register_device(firm, name="PC Kevin").device
    Device.objects.filter(pk=device.pk).update(last_seen_at=timezone.now() - dt.timedelta(hours=2))
    queue(device)

    page = browser.get(f"/firms/{firm.pk}/devices/").content.decode()

    assert "Des documents attendent" in page
    [health] = services.device_health(firm)
    assert health.silent and health.needs_attention


def test_a_failed_delivery_is_shown_with_the_reason_the_downloader_gave(
    browser: Client, firm: Organisation
) -> None:
    device = services.register_device(firm, name="PC Kevin").device
    delivery = queue(device)
    services.report_failure(
        device,
        delivery.pk,
        FailReport(reason=FailReason("disk_full"), message=r"c:\bob-demat: disk full"),
    )

    page = browser.get(f"/firms/{firm.pk}/devices/").content.decode()

    assert "disk_full" in page
    assert r"c:\bob-demat: disk full" in page
    assert delivery.relative_path in page


def test_the_verification_link_prefills_the_code_and_shows_the_device_before_approval(
    browser: Client, firm: Organisation
) -> None:
    pairing, _ = services.start_pairing(FACTS)

    entry = browser.get(f"/devices/pair/?code={pairing.user_code}")
    page = browser.get(entry["Location"]).content.decode()

    assert entry["Location"] == f"/firms/{firm.pk}/devices/pair/?code={pairing.user_code}"
    for fact in (pairing.user_code, "PC Kevin", "KEVIN-PC", "kevin", "Windows 11"):
        assert fact in page
    assert "Approuver cet appareil" in page and "Refuser" in page
    assert not Device.objects.exists()


def test_approving_the_code_adds_the_device_to_the_firm(
    browser: Client, firm: Organisation, accountant: User
) -> None:
    pairing, _ = services.start_pairing(FACTS)

    answer = browser.post(
        f"/firms/{firm.pk}/devices/pair/",
        {"user_code": pairing.user_code.lower(), "name": "PC de Kevin", "approve": "1"},
    )

    assert answer.status_code == 302
    device = Device.objects.get(firm=firm)
    assert (device.name, device.hostname, device.os_user) == ("PC de Kevin", "KEVIN-PC", "kevin")
    pairing.refresh_from_db()
    assert (pairing.state, pairing.approved_by) == (DevicePairing.State.APPROVED, accountant)


def test_denying_the_code_refuses_the_pairing(browser: Client, firm: Organisation) -> None:
    pairing, _ = services.start_pairing(FACTS)

    browser.post(f"/firms/{firm.pk}/devices/pair/", {"user_code": pairing.user_code, "deny": "1"})

    pairing.refresh_from_db()
    assert pairing.state == DevicePairing.State.DENIED
    assert not Device.objects.exists()


def test_too_many_wrong_codes_get_a_clear_message(browser: Client, firm: Organisation) -> None:
    for _ in range(services.MAX_WRONG_GUESSES_PER_USER):
        browser.post(f"/firms/{firm.pk}/devices/pair/", {"user_code": "BCDF-GHJK"})

    page = browser.post(f"/firms/{firm.pk}/devices/pair/", {"user_code": "BCDF-GHJK"})

    assert "Trop de codes erronés" in page.content.decode()


def test_an_enrolment_key_is_shown_once_with_the_exact_command(
    browser: Client, firm: Organisation
) -> None:
    page = browser.post(f"/firms/{firm.pk}/devices/enrolment-keys/").content.decode()

    [line] = [line for line in page.splitlines() if "ledgerdrop-agent pair --server" in line]
    key = line.split("--enrolment-key ")[1].split("<")[0].strip()
    assert "http://testserver" in line
    assert key.startswith("lde_")
    assert key not in browser.get(f"/firms/{firm.pk}/devices/").content.decode()


def test_settings_change_the_main_folder_and_the_name(browser: Client, firm: Organisation) -> None:
    device = services.register_device(firm, name="PC Kevin", os="Windows 11").device

    answer = browser.post(
        f"/firms/{firm.pk}/devices/{device.pk}/settings/",
        {"name": "PC Kevin (bureau)", "root_folder": r"d:\bob-demat"},
    )

    assert answer.status_code == 302
    device.refresh_from_db()
    assert (device.name, device.root_folder) == ("PC Kevin (bureau)", r"d:\bob-demat")


@pytest.mark.parametrize("folder", ["bob-demat", "c:bob-demat", "..\\demat", "demat/ventes"])
def test_a_relative_main_folder_is_refused_and_changes_nothing(
    browser: Client, firm: Organisation, folder: str
) -> None:
    device = services.register_device(firm, name="PC Kevin", os="Windows 11").device

    page = browser.post(
        f"/firms/{firm.pk}/devices/{device.pk}/settings/",
        {"name": "PC Kevin", "root_folder": folder},
    )

    assert page.status_code == 200
    assert "chemin absolu" in page.content.decode() or "dossier absolu" in page.content.decode()
    device.refresh_from_db()
    assert device.root_folder == r"c:\bob-demat"


@pytest.mark.parametrize("folder", [r"c:\bob-demat", "D:/Demat", "/srv/bob", "~/bob"])
def test_absolute_windows_and_posix_main_folders_are_accepted(
    firm: Organisation, folder: str
) -> None:
    device = services.register_device(firm, name="PC Kevin").device

    services.update_device(device, root_folder=folder, by=None)

    device.refresh_from_db()
    assert device.root_folder == folder


def test_a_firm_has_one_shared_server(browser: Client, firm: Organisation) -> None:
    first = services.register_device(firm, name="Serveur 1", os="Linux").device
    second = services.register_device(firm, name="Serveur 2", os="Linux").device
    services.set_shared_server(first, True, by=None)

    browser.post(
        f"/firms/{firm.pk}/devices/{second.pk}/settings/",
        {"name": "Serveur 2", "root_folder": "~/bob-demat", "is_shared_server": "on"},
    )

    shared = Device.objects.filter(firm=firm, is_shared_server=True)
    assert list(shared) == [second]


def test_revoking_asks_first_then_takes_effect_on_the_next_request(
    browser: Client, firm: Organisation
) -> None:
    credential = services.register_device(firm, name="PC Kevin")
    url = f"/firms/{firm.pk}/devices/{credential.device.pk}/revoke/"

    confirm = browser.get(url)
    assert services.authenticate_device(credential.token) is not None
    browser.post(url)

    assert "Révoquer PC Kevin ?" in confirm.content.decode()
    assert services.authenticate_device(credential.token) is None
    assert services.device_health(firm) == []


def test_another_firms_device_is_not_found(browser: Client, firm: Organisation) -> None:
    theirs = services.register_device(builders.firm(), name="Their PC").device

    assert browser.get(f"/firms/{firm.pk}/devices/{theirs.pk}/settings/").status_code == 404
    assert browser.post(f"/firms/{firm.pk}/devices/{theirs.pk}/revoke/").status_code == 404
    assert browser.get(f"/firms/{theirs.firm.pk}/devices/").status_code == 404


@pytest.mark.parametrize(
    ("language", "phrase"),
    [
        ("fr", "Ouvrez Windows PowerShell"),
        ("nl", "Open Windows PowerShell"),
        ("en", "Open Windows"),
    ],
)
def test_the_downloader_page_gives_one_command_per_system_each_with_its_own_fresh_key(
    browser: Client, firm: Organisation, language: str, phrase: str
) -> None:
    page = browser.get(
        f"/firms/{firm.pk}/downloader/", headers={"Accept-Language": language}
    ).content.decode()

    assert phrase in page
    linux = re.search(
        r"curl -fsSL http://testserver/downloads/agent/install.sh \| "
        r"LEDGERDROP_ENROLMENT_KEY=(lde_[\w-]+) sh",
        page,
    )
    windows = re.search(
        r"\$env:LEDGERDROP_ENROLMENT_KEY=&#x27;(lde_[\w-]+)&#x27;; "
        r"irm http://testserver/downloads/agent/install.ps1 \| iex",
        page,
    )
    assert linux and windows, page
    assert linux.group(1) != windows.group(1)
    fresh = EnrolmentKey.objects.filter(firm=firm, used_at=None, expires_at__gt=timezone.now())
    assert {key.key_hash for key in fresh} == {
        hash_secret(linux.group(1)),
        hash_secret(windows.group(1)),
    }
    assert "pip install ledgerdrop-agent" not in page and "NSSM" not in page
