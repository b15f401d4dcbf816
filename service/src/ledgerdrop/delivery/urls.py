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
]
