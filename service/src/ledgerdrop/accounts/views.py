"""Pages of accounts: sign-up, settings, company users (S2), dossiers, applications (S4).
(A dossier's own page lists its company's documents: `documents.views.dossier_detail`.)
Views parse, authorise through `accounts.tenancy`, call a service and render."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm, SetPasswordForm
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ledgerdrop.accounts import applications, services
from ledgerdrop.accounts.forms import (
    ExternalUserForm,
    LoginForm,
    OrganisationForm,
    SignupForm,
    TokenForm,
)
from ledgerdrop.accounts.http import client_ip, remember_device, site_url
from ledgerdrop.accounts.models import ApiToken, ExternalUser, Organisation, User
from ledgerdrop.accounts.tenancy import company_for, firm_for
from ledgerdrop.core.errors import ServiceError
from ledgerdrop.core.refusals import show_refusal


def _me(request: HttpRequest) -> User:
    user: User = request.user  # type: ignore[assignment]
    return user


class PasswordResetView(auth_views.PasswordResetView):
    """Django's, with the link in the e-mail on the configured public address when there is
    one (the request's host otherwise, which ALLOWED_HOSTS restricts)."""

    email_template_name = "accounts/email/password_reset.txt"
    subject_template_name = "accounts/email/password_reset_subject.txt"
    template_name = "accounts/password_reset_form.html"

    def form_valid(self, form: PasswordResetForm) -> HttpResponse:
        if settings.PUBLIC_URL:
            public = urlsplit(settings.PUBLIC_URL)
            self.extra_email_context = {"protocol": public.scheme, "domain": public.netloc}
        return super().form_valid(form)


class LoginView(auth_views.LoginView):
    """Django's sign-in page; a browser that signs in becomes a known device of the account."""

    template_name = "accounts/login.html"
    authentication_form = LoginForm

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        response = super().form_valid(form)
        remember_device(self.request, response, form.get_user())
        return response


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Django's new-password page of the e-mailed link. The person proved they read the
    account's mailbox: earlier wrong guesses lock nobody out any more, and this browser becomes
    a known device of the account."""

    template_name = "accounts/password_reset_confirm.html"

    def form_valid(self, form: SetPasswordForm[User]) -> HttpResponse:
        response = super().form_valid(form)
        services.password_was_reset(form.user)
        remember_device(self.request, response, form.user)
        return response


def organisation_home(organisation: Organisation) -> HttpResponseRedirect:
    if organisation.is_firm:
        return redirect("dossiers", firm_id=organisation.pk)
    return redirect("company-home", company_id=organisation.pk)


def signup_choice(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/signup_choice.html")


def signup(request: HttpRequest, kind: str) -> HttpResponse:
    """S1: a free account for an accountant's firm or for a client company."""
    organisation_kind = Organisation.Kind(kind)
    data = request.POST if request.method == "POST" else None
    form = SignupForm(data, kind=organisation_kind, initial={"email": request.GET.get("email")})
    if form.is_valid():
        try:
            user, organisation = services.sign_up(
                kind=organisation_kind,
                language=translation.get_language() or settings.LANGUAGE_CODE,
                client_ip=client_ip(request),
                **form.cleaned_data,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        except ServiceError as refusal:
            show_refusal(request, refusal, form=form)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, _("Welcome to Ledgerdrop. Your account is ready."))
            response = organisation_home(organisation)
            remember_device(request, response, user)
            return response
    return render(request, "accounts/signup.html", {"form": form, "kind": organisation_kind})


@login_required
def organisation_new(request: HttpRequest) -> HttpResponse:
    """A person who already has an account adds a firm or a company (one person, several
    organisations)."""
    form = OrganisationForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        organisation = services.create_organisation(
            _me(request),
            Organisation.Kind(form.cleaned_data["kind"]),
            form.cleaned_data["name"],
            form.cleaned_data["vat_number"],
        )
        return organisation_home(organisation)
    return render(request, "accounts/organisation_new.html", {"form": form})


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """The language switcher: remembered for the person when signed in, else in a cookie."""
    language = request.POST.get("language", "")
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = "/"
    response = redirect(next_url)
    if language in dict(settings.LANGUAGES):
        if request.user.is_authenticated:
            services.set_language(_me(request), language)
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            language,
            max_age=365 * 24 * 3600,
            samesite="Lax",
            secure=settings.SESSION_COOKIE_SECURE,
        )
    return response


@login_required
def user_settings(request: HttpRequest) -> HttpResponse:
    """The person's own settings: language and API tokens (shown once, revocable)."""
    user = _me(request)
    form = TokenForm(request.POST if request.method == "POST" else None)
    new_token = ""
    if form.is_valid():
        _token, new_token = services.issue_token(user, form.cleaned_data["label"])
        form = TokenForm()
    return render(
        request,
        "accounts/user_settings.html",
        {
            "form": form,
            "new_token": new_token,
            "tokens": ApiToken.objects.active().filter(user=user),
        },
    )


@login_required
@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    token = get_object_or_404(ApiToken.objects.active(), pk=token_id, user=request.user)
    services.revoke_token(token, by=_me(request))
    messages.success(request, _("The token is revoked; it no longer opens the API."))
    return redirect("user-settings")


@login_required
def company_home(request: HttpRequest, company_id: int) -> HttpResponse:
    """A company opens on its invoices when the documents app is installed, else its settings."""
    company = company_for(request.user, company_id)
    try:
        return redirect("company-documents", company_id=company.pk)
    except NoReverseMatch:
        return redirect("company-settings", company_id=company.pk)


@login_required
def company_settings(request: HttpRequest, company_id: int) -> HttpResponse:
    company = company_for(request.user, company_id)
    return render(
        request,
        "accounts/company_settings.html",
        {"company": company, "section": "settings", "tab": "general"},
    )


def _users_context(company: Organisation, form: ExternalUserForm) -> dict[str, object]:
    return {
        "company": company,
        "section": "settings",
        "tab": "users",
        "form": form,
        "members": company.memberships.select_related("user").order_by("user__email"),
        "external_users": company.external_users.select_related("dossier__firm"),
    }


@login_required
def company_users(request: HttpRequest, company_id: int) -> HttpResponse:
    """Company settings → Users: the members, and the accountants and support users (S2)."""
    company = company_for(request.user, company_id)
    form = ExternalUserForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        external = services.add_external_user(
            company, form.cleaned_data["email"], by=_me(request), site_url=site_url(request)
        )
        if external.dossier_id:
            note = _("%(email)s is linked: %(company)s is now a dossier of their firm.")
        else:
            note = _(
                "An invitation has been sent to %(email)s. %(email)s has no accounting firm"
                " account yet: once they create it with this address, %(company)s becomes one"
                " of their dossiers."
            )
        messages.success(request, note % {"email": external.email, "company": company.name})
        if not request.htmx:  # type: ignore[attr-defined]
            return redirect("company-users", company_id=company.pk)
        form = ExternalUserForm()
    template = (
        "accounts/_external_users.html"
        if request.htmx  # type: ignore[attr-defined]
        else "accounts/company_users.html"
    )
    return render(request, template, _users_context(company, form))


@login_required
@require_POST
def external_user_remove(
    request: HttpRequest, company_id: int, external_user_id: int
) -> HttpResponse:
    company = company_for(request.user, company_id)
    external = get_object_or_404(ExternalUser, pk=external_user_id, company=company)
    if request.POST.get("confirm") != "1":
        # Removing the accountant stops their access and transfers: say so and ask first.
        context = {**_users_context(company, ExternalUserForm()), "confirming": external}
        if request.htmx:  # type: ignore[attr-defined]
            return render(request, "accounts/_external_users.html", context)
        return render(request, "accounts/company_users.html", context)
    services.remove_external_user(external, by=_me(request))
    messages.success(request, _("The external user is removed."))
    if request.htmx:  # type: ignore[attr-defined]
        return render(
            request, "accounts/_external_users.html", _users_context(company, ExternalUserForm())
        )
    return redirect("company-users", company_id=company.pk)


@login_required
def dossiers(request: HttpRequest, firm_id: int) -> HttpResponse:
    firm = firm_for(request.user, firm_id)
    return render(
        request,
        "accounts/dossiers.html",
        {"firm": firm, "section": "dossiers", "dossiers": firm.dossiers.select_related("company")},
    )


@login_required
def firm_apps(request: HttpRequest, firm_id: int) -> HttpResponse:
    """S4: Applications & connections, grouped by section (accounting first)."""
    firm = firm_for(request.user, firm_id)
    apps = [(app, app.is_enabled(firm)) for app in applications.APPLICATIONS]
    return render(
        request, "accounts/firm_apps.html", {"firm": firm, "section": "apps", "apps": apps}
    )


@login_required
@require_POST
def firm_app_switch(request: HttpRequest, firm_id: int, slug: str) -> HttpResponse:
    firm = firm_for(request.user, firm_id)
    app = applications.application(slug)
    if app is None:
        raise Http404("No such application.")
    enabled = request.POST.get("enabled") == "1"
    applications.set_enabled(firm, app, enabled, by=_me(request))
    if enabled:
        messages.success(request, _("The application is switched on."))
    else:
        messages.success(request, _("The application is switched off."))
    return redirect("firm-apps", firm_id=firm.pk)
