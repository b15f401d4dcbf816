from django.urls import path

from ledgerdrop.delivery import views

urlpatterns = [
    # The verification URI the downloader prints (RFC 8628): leads to the firm's pairing page.
    path("devices/pair/", views.pair_entry, name="device-pair"),
    path("firms/<int:firm_id>/devices/", views.devices, name="devices"),
    path("firms/<int:firm_id>/devices/pair/", views.pair, name="device-pair-firm"),
    path(
        "firms/<int:firm_id>/devices/enrolment-keys/",
        views.enrolment_key,
        name="device-enrolment-key",
    ),
    path(
        "firms/<int:firm_id>/devices/<int:device_id>/settings/",
        views.device_settings,
        name="device-settings",
    ),
    path(
        "firms/<int:firm_id>/devices/<int:device_id>/revoke/",
        views.revoke,
        name="device-revoke",
    ),
    path("firms/<int:firm_id>/downloader/", views.downloader, name="downloader"),
    # The downloader itself, with no sign-in (API.md, Downloads).
    path("downloads/agent/", views.index, name="downloads-agent"),
    path("downloads/agent/install.sh", views.install_sh, name="downloads-install-sh"),
    path("downloads/agent/install.ps1", views.install_ps1, name="downloads-install-ps1"),
    path(
        "downloads/agent/ledgerdrop-agent-windows.zip",
        views.windows_zip,
        name="downloads-windows-zip",
    ),
    path("downloads/agent/<str:filename>", views.wheel, name="downloads-wheel"),
]
