from django.contrib.auth import views as auth_views
from django.urls import path

from ledgerdrop.accounts import views

urlpatterns = [
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(template_name="accounts/login.html"),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("firms/<int:firm_id>/dossiers/", views.dossiers, name="dossiers"),
]
