from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from ledgerdrop.accounts import views as accounts_views
from ledgerdrop.config.api import api
from ledgerdrop.core import views as core_views
from ledgerdrop.delivery import views as delivery_views
from ledgerdrop.delivery.api import api as device_api

urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(template_name="accounts/login.html"),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("firms/<int:firm_id>/dossiers/", accounts_views.dossiers, name="dossiers"),
    path("devices/pair/", delivery_views.pair, name="device-pair"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", api.urls),
    path("api/device/v1/", device_api.urls),
    path("admin/", admin.site.urls),
]
