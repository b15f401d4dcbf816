"""The URL map: each app keeps its own pages in its `urls.py` and its API in its `api.py`."""

from django.contrib import admin
from django.urls import include, path

from ledgerdrop.config import views as config_views
from ledgerdrop.config.api import api
from ledgerdrop.delivery.api import device_api
from ledgerdrop_protocol import routes

urlpatterns = [
    path("", config_views.home, name="home"),
    path("healthz", config_views.healthz, name="healthz"),
    path("", include("ledgerdrop.accounts.urls")),
    path("", include("ledgerdrop.delivery.urls")),
    path("", include("ledgerdrop.documents.urls")),
    path("", include("ledgerdrop.connectors.bob_demat.urls")),
    path("", include("ledgerdrop.connectors.presets.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", api.urls),
    path(f"{routes.PREFIX.removeprefix('/')}/", device_api.urls),
    path("admin/", admin.site.urls),
]
