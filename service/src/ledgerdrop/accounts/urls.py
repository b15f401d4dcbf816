from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from ledgerdrop.accounts import views

urlpatterns = [
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password-reset/",
        views.PasswordResetView.as_view(),
        name="password_reset",
    ),
    path(
        "accounts/password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="accounts/password_reset_done.html"),
        name="password_reset_done",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="accounts/password_reset_complete.html"
        ),
        name="password_reset_complete",
    ),
    path(
        "accounts/password/",
        auth_views.PasswordChangeView.as_view(
            template_name="accounts/password_change.html",
            success_url=reverse_lazy("user-settings"),
        ),
        name="password_change",
    ),
    path("accounts/settings/", views.user_settings, name="user-settings"),
    path("accounts/tokens/<int:token_id>/revoke/", views.token_revoke, name="token-revoke"),
    path("language/", views.set_language, name="set-language"),
    path("signup/", views.signup_choice, name="signup"),
    path("signup/firm/", views.signup, {"kind": "firm"}, name="signup-firm"),
    path("signup/company/", views.signup, {"kind": "company"}, name="signup-company"),
    path("organisations/new/", views.organisation_new, name="organisation-new"),
    path("companies/<int:company_id>/", views.company_home, name="company-home"),
    path("companies/<int:company_id>/settings/", views.company_settings, name="company-settings"),
    path("companies/<int:company_id>/settings/users/", views.company_users, name="company-users"),
    path(
        "companies/<int:company_id>/settings/users/external/<int:external_user_id>/remove/",
        views.external_user_remove,
        name="external-user-remove",
    ),
    path("firms/<int:firm_id>/dossiers/", views.dossiers, name="dossiers"),
    path("firms/<int:firm_id>/apps/", views.firm_apps, name="firm-apps"),
    path("firms/<int:firm_id>/apps/<slug:slug>/", views.firm_app_switch, name="firm-app-switch"),
]
