"""Application API of accounts (`/api/v1/`): sign-up, tokens, me, external users (S2),
dossiers and applications (S4). Handlers parse, authorise, call a service, shape the answer."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Router, Schema
from ninja.responses import Status

from ledgerdrop.accounts import applications, services
from ledgerdrop.accounts.http import client_ip, known_device, site_url
from ledgerdrop.accounts.models import ApiToken, Dossier, ExternalUser, Organisation, User
from ledgerdrop.accounts.tenancy import company_for, dossier_for, firm_for
from ledgerdrop.core import problems
from ledgerdrop.core.errors import Kind, ServiceError
from ledgerdrop.core.problems import errors

router = Router(tags=["accounts"])


class OrganisationRef(Schema):
    id: int
    kind: str
    name: str


class OrganisationOut(OrganisationRef):
    role: str


class MeOut(Schema):
    email: str
    language: str
    organisations: list[OrganisationOut]


class MeIn(Schema):
    language: Literal["fr", "nl", "en"]


class SignupIn(Schema):
    kind: Literal["firm", "company"]
    email: str
    password: str
    name: str
    vat_number: str = ""
    language: Literal["fr", "nl", "en", ""] = ""


class UserOut(Schema):
    id: int
    email: str


class SignupOut(Schema):
    user: UserOut
    organisation: OrganisationRef


class TokenIn(Schema):
    email: str
    password: str
    label: str = ""


class TokenOut(Schema):
    token: str


class TokenInfo(Schema):
    id: int
    label: str
    prefix: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None


class ExternalUserIn(Schema):
    email: str


class ExternalUserOut(Schema):
    id: int
    email: str
    status: Literal["linked", "invited"]
    firm: OrganisationRef | None = None


class CompanyOut(Schema):
    id: int
    name: str
    vat_number: str


class DossierOut(Schema):
    id: int
    company: CompanyOut
    linked_at: dt.datetime


class AppOut(Schema):
    slug: str
    name: str
    section: str
    enabled: bool


class AppIn(Schema):
    enabled: bool


def _user(request: HttpRequest) -> User:
    user: User = request.auth  # type: ignore[attr-defined]
    return user


def _ref(organisation: Organisation) -> OrganisationRef:
    return OrganisationRef(id=organisation.pk, kind=organisation.kind, name=organisation.name)


@router.post("/signup", response={201: SignupOut, **errors(429)}, auth=None)
def signup(request: HttpRequest, body: SignupIn) -> Status[SignupOut]:
    """S1: a free account for a firm (accountant) or a company (client)."""
    user, organisation = services.sign_up(
        kind=Organisation.Kind(body.kind),
        email=body.email,
        password=body.password,
        name=body.name,
        vat_number=body.vat_number,
        language=body.language,
        client_ip=client_ip(request),
    )
    return Status(
        201, SignupOut(user=UserOut(id=user.pk, email=user.email), organisation=_ref(organisation))
    )


@router.post("/tokens", response={201: TokenOut, **errors(401, 429)}, auth=None)
def create_token(request: HttpRequest, body: TokenIn) -> Status[TokenOut] | HttpResponse:
    """Exchange an e-mail and password for an API token (sign-in attempts are rate-limited)."""
    ip = client_ip(request)
    device = known_device(request, services.user_with_email(body.email))
    services.check_login_allowed(body.email, ip, device=device)
    # Django's authentication runs the password hasher for an unknown e-mail too, so that the
    # answer takes as long as for a wrong password and does not tell which accounts exist.
    user = authenticate(
        request, username=services.normalise_email(body.email), password=body.password
    )
    if not isinstance(user, User):
        services.record_login_failure(body.email, ip, device=device)
        return problems.problem_response(
            401,
            "Not authenticated",
            "The e-mail address or the password is wrong.",
            code="bad_credentials",
        )
    services.clear_login_failures(body.email, ip, device=device)
    _token, raw = services.issue_token(user, body.label)
    return Status(201, TokenOut(token=raw))


@router.get("/tokens", response=list[TokenInfo])
def list_tokens(request: HttpRequest) -> list[ApiToken]:
    return list(ApiToken.objects.active().filter(user=_user(request)))


@router.delete("/tokens/{token_id}", response={204: None})
def revoke_token(request: HttpRequest, token_id: int) -> Status[None]:
    token = get_object_or_404(ApiToken.objects.active(), pk=token_id, user=_user(request))
    services.revoke_token(token, by=_user(request))
    return Status(204, None)


def _me(user: User) -> MeOut:
    memberships = user.memberships.select_related("organisation").order_by("organisation__name")
    return MeOut(
        email=user.email,
        language=user.language,
        organisations=[
            OrganisationOut(
                id=m.organisation.pk,
                kind=m.organisation.kind,
                name=m.organisation.name,
                role=m.role,
            )
            for m in memberships
        ],
    )


@router.get("/me", response=MeOut)
def me(request: HttpRequest) -> MeOut:
    return _me(_user(request))


@router.patch("/me", response=MeOut)
def update_me(request: HttpRequest, body: MeIn) -> MeOut:
    """The language of the pages and e-mails, remembered for this person."""
    services.set_language(_user(request), body.language)
    return _me(_user(request))


def _external_out(external: ExternalUser) -> ExternalUserOut:
    firm = external.dossier.firm if external.dossier else None
    return ExternalUserOut(
        id=external.pk,
        email=external.email,
        status="linked" if firm else "invited",
        firm=_ref(firm) if firm else None,
    )


@router.get("/companies/{cid}/external-users", response=list[ExternalUserOut])
def list_external_users(request: HttpRequest, cid: int) -> list[ExternalUserOut]:
    company = company_for(_user(request), cid)
    externals = company.external_users.select_related("dossier__firm")
    return [_external_out(external) for external in externals]


@router.post("/companies/{cid}/external-users", response={201: ExternalUserOut})
def add_external_user(
    request: HttpRequest, cid: int, body: ExternalUserIn
) -> Status[ExternalUserOut]:
    """S2: link the accountant with this e-mail, or invite them when they have no firm yet."""
    company = company_for(_user(request), cid)
    try:
        external = services.add_external_user(
            company, body.email, by=_user(request), site_url=site_url(request)
        )
    except ValidationError as exc:
        raise ValidationError({"email": exc.messages}) from exc
    return Status(201, _external_out(external))


@router.delete("/companies/{cid}/external-users/{external_user_id}", response={204: None})
def remove_external_user(request: HttpRequest, cid: int, external_user_id: int) -> Status[None]:
    """Removing the external user unlinks the company from that firm."""
    company = company_for(_user(request), cid)
    external = get_object_or_404(ExternalUser, pk=external_user_id, company=company)
    services.remove_external_user(external, by=_user(request))
    return Status(204, None)


def _dossier_out(dossier: Dossier) -> DossierOut:
    company = dossier.company
    return DossierOut(
        id=dossier.pk,
        company=CompanyOut(id=company.pk, name=company.name, vat_number=company.vat_number),
        linked_at=dossier.created_at,
    )


@router.get("/firms/{fid}/dossiers", response=list[DossierOut])
def list_dossiers(request: HttpRequest, fid: int) -> list[DossierOut]:
    """S2: the companies that made themselves dossiers of this firm."""
    firm = firm_for(_user(request), fid)
    return [_dossier_out(d) for d in firm.dossiers.select_related("company")]


@router.get("/firms/{fid}/dossiers/{dossier_id}", response=DossierOut)
def get_dossier(request: HttpRequest, fid: int, dossier_id: int) -> DossierOut:
    return _dossier_out(dossier_for(firm_for(_user(request), fid), dossier_id))


def _app_out(app: applications.Application, firm: Organisation) -> AppOut:
    return AppOut(
        slug=app.slug, name=str(app.name), section=app.section, enabled=app.is_enabled(firm)
    )


@router.get("/firms/{fid}/apps", response=list[AppOut])
def list_apps(request: HttpRequest, fid: int) -> list[AppOut]:
    """S4: Applications & connections."""
    firm = firm_for(_user(request), fid)
    return [_app_out(app, firm) for app in applications.APPLICATIONS]


@router.put("/firms/{fid}/apps/{slug}", response=AppOut)
def switch_app(request: HttpRequest, fid: int, slug: str, body: AppIn) -> AppOut:
    """S4: switching an application on adds its entry to the firm's menu (Sage Demat)."""
    firm = firm_for(_user(request), fid)
    app = applications.application(slug)
    if app is None:
        # The catalogue is filled by the connectors at start-up: no enum can list it here.
        message = _("No such application.")
        raise ServiceError(
            "unknown_application",
            message,
            Kind.INVALID,
            errors=[{"field": "slug", "message": message}],
        )
    applications.set_enabled(firm, app, body.enabled, by=_user(request))
    return _app_out(app, firm)
