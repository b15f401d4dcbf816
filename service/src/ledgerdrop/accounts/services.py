"""State changes of accounts: each is one transaction with its audit row."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from stdnum.be import vat as be_vat
from stdnum.exceptions import ValidationError as StdnumError

from ledgerdrop.accounts import audit, signals, tasks
from ledgerdrop.accounts.models import (
    ApiToken,
    Dossier,
    ExternalUser,
    LoginFailure,
    Membership,
    Organisation,
    SignupAttempt,
    User,
)
from ledgerdrop.core.errors import Kind, ServiceError
from ledgerdrop.core.tasks import enqueue_on_commit

# Sign-in limits: enough for a person who mistypes, far too few for someone guessing. They count
# per account *and* address, so that a stranger's wrong passwords lock only the stranger out; per
# address over all accounts; and per account over all addresses (guessing spread over many
# addresses), which stops every browser but the account's known devices.
LOGIN_WINDOW = dt.timedelta(minutes=15)
MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS = 5
MAX_FAILURES_PER_IP = 30
MAX_FAILURES_PER_ACCOUNT = 100
# Sign-ups per client address: a family or an office signs up a few accounts, not dozens.
SIGNUP_WINDOW = dt.timedelta(hours=1)
MAX_SIGNUPS_PER_IP = 10
TOKEN_PREFIX = "ldp_"  # noqa: S105  (a visible prefix, so leaked tokens are recognisable)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def normalise_vat_number(vat_number: str) -> str:
    """`BE 0403.019.261` → `BE0403019261`; a clear, translated message when it is not a valid
    Belgian VAT number."""
    try:
        return "BE" + be_vat.validate(vat_number)
    except StdnumError:
        raise ValidationError(
            _(
                "This is not a valid Belgian VAT number. It looks like BE0123456749: "
                "BE followed by 10 digits."
            ),
            code="invalid_vat_number",
        ) from None


def sign_up(
    *,
    kind: Organisation.Kind,
    email: str,
    password: str,
    name: str,
    vat_number: str = "",
    language: str = "",
    client_ip: str = "",
) -> tuple[User, Organisation]:
    """A new person with a new firm or company (S1). Raises ValidationError per field, and
    ServiceError `too_many_signups` when `client_ip` has sent too many sign-ups lately (refused
    or not: trying e-mail addresses one after the other is what the limit is for)."""
    if client_ip:
        _count_signup(client_ip)
    return _sign_up(
        kind=kind,
        email=email,
        password=password,
        name=name,
        vat_number=vat_number,
        language=language,
    )


@transaction.atomic
def _count_signup(ip: str) -> None:
    now = timezone.now()
    SignupAttempt.objects.filter(at__lt=now - SIGNUP_WINDOW).delete()
    recent = SignupAttempt.objects.filter(ip=ip[:45]).order_by("at")
    if recent.count() >= MAX_SIGNUPS_PER_IP:
        oldest = recent.values_list("at", flat=True)[0]
        retry_after = oldest + SIGNUP_WINDOW - now
        minutes = max(1, -(-int(retry_after.total_seconds()) // 60))
        raise ServiceError(
            "too_many_signups",
            ngettext(
                "Too many sign-ups from your network address. Try again in %(minutes)d minute.",
                "Too many sign-ups from your network address. Try again in %(minutes)d minutes.",
                minutes,
            )
            % {"minutes": minutes},
            Kind.TOO_MANY,
            title="Too many sign-ups",
            retry_after=retry_after,
        )
    SignupAttempt.objects.create(ip=ip[:45], at=now)


@transaction.atomic
def _sign_up(
    *,
    kind: Organisation.Kind,
    email: str,
    password: str,
    name: str,
    vat_number: str,
    language: str,
) -> tuple[User, Organisation]:
    email = normalise_email(email)
    errors: dict[str, list[str]] = {}
    try:
        validate_email(email)
    except ValidationError as exc:
        errors["email"] = list(exc.messages)
    if "email" not in errors and User.objects.filter(email__iexact=email).exists():
        errors["email"] = [_("An account with this e-mail address already exists. Sign in.")]
    if not name.strip():
        errors["name"] = [_("Enter the name of the organisation.")]
    try:
        vat_number = _checked_vat_number(kind, vat_number)
    except ValidationError as exc:
        errors["vat_number"] = list(exc.messages)
    candidate = User(email=email, full_name="")
    try:
        password_validation.validate_password(password, candidate)
    except ValidationError as exc:
        errors["password"] = list(exc.messages)
    if errors:
        raise ValidationError(errors)
    user = User.objects.create_user(email, password, language=language)
    organisation = create_organisation(user, kind, name.strip(), vat_number)
    return user, organisation


def _checked_vat_number(kind: Organisation.Kind, vat_number: str) -> str:
    if not vat_number.strip():
        if kind == Organisation.Kind.COMPANY:
            raise ValidationError(_("A company needs its VAT number."), code="required")
        return ""
    return normalise_vat_number(vat_number)


@transaction.atomic
def create_organisation(
    owner: User, kind: Organisation.Kind, name: str, vat_number: str = ""
) -> Organisation:
    organisation = Organisation.objects.create(kind=kind, name=name, vat_number=vat_number)
    Membership.objects.create(user=owner, organisation=organisation, role=Membership.Role.OWNER)
    audit.record(organisation, "organisation.created", organisation, actor=owner)
    if kind == Organisation.Kind.FIRM:
        accept_invitations(owner, organisation)
    return organisation


@transaction.atomic
def link_accountant(
    company: Organisation, firm: Organisation, *, by: User | None, email: str = ""
) -> Dossier:
    """The company makes itself a dossier of the firm (S2). Linking twice changes nothing.

    Every dossier has its external user on the company's side, so that the company always sees
    who can read its documents and can remove them."""
    dossier, created = Dossier.objects.get_or_create(firm=firm, company=company)
    if created:
        audit.record(company, "dossier.linked", dossier, actor=by, firm_id=firm.pk)
        audit.record(firm, "dossier.linked", dossier, actor=by, company_id=company.pk)
    if not ExternalUser.objects.filter(dossier=dossier).exists():
        email = normalise_email(email) or _owner_email(firm)
        external, _created = ExternalUser.objects.get_or_create(
            company=company, email=email, defaults={"invited_by": by}
        )
        if external.dossier_id is None:
            external.dossier = dossier
            external.linked_at = timezone.now()
            external.save(update_fields=["dossier", "linked_at"])
    return dossier


def _owner_email(firm: Organisation) -> str:
    membership = (
        firm.memberships.select_related("user").order_by("-role", "id").first() if firm.pk else None
    )
    return membership.user.email if membership else f"firm-{firm.pk}@invalid"


def firm_of_user_with_email(email: str) -> Organisation | None:
    """The firm a person with this e-mail works for (the oldest membership when several)."""
    membership = (
        Membership.objects.filter(
            user__email__iexact=normalise_email(email),
            user__is_active=True,
            organisation__kind=Organisation.Kind.FIRM,
        )
        .select_related("organisation")
        .order_by("id")
        .first()
    )
    return membership.organisation if membership else None


@transaction.atomic
def add_external_user(
    company: Organisation, email: str, *, by: User | None, site_url: str = ""
) -> ExternalUser:
    """Company settings → Users → Accountants and support users → Add external user (S2).

    A firm user with this e-mail gets the company as a dossier at once; anybody else gets an
    invitation by e-mail that turns into the link when they sign up a firm. `site_url` is the
    address the invitation's link starts with when no public URL is configured."""
    email = normalise_email(email)
    validate_email(email)
    external, _created = ExternalUser.objects.select_for_update().get_or_create(
        company=company, email=email, defaults={"invited_by": by}
    )
    if external.dossier_id is not None:
        return external
    firm = firm_of_user_with_email(email)
    if firm is not None:
        _link(external, firm, by=by)
        return external
    audit.record(company, "external_user.invited", external, actor=by, email=email)
    language = (by.language if by else "") or "fr"
    enqueue_on_commit(tasks.send_invitation, external.pk, language, site_url)
    return external


def _link(external: ExternalUser, firm: Organisation, *, by: User | None) -> None:
    dossier, created = Dossier.objects.get_or_create(firm=firm, company=external.company)
    if created:
        audit.record(external.company, "dossier.linked", dossier, actor=by, firm_id=firm.pk)
        audit.record(firm, "dossier.linked", dossier, actor=by, company_id=external.company_id)
    external.dossier = dossier
    external.linked_at = timezone.now()
    external.save(update_fields=["dossier", "linked_at"])


@transaction.atomic
def accept_invitations(user: User, firm: Organisation) -> list[Dossier]:
    """Invitations to this person's e-mail become dossiers of the firm they signed up (S2)."""
    pending = ExternalUser.objects.select_for_update().filter(
        email__iexact=user.email, dossier__isnull=True
    )
    dossiers = []
    for external in pending.select_related("company"):
        _link(external, firm, by=user)
        assert external.dossier is not None
        dossiers.append(external.dossier)
    return dossiers


@transaction.atomic
def remove_external_user(external: ExternalUser, *, by: User | None) -> None:
    """Removing the external user unlinks the company from that firm: the dossier goes, unless
    another person of the same firm is still an external user of the company."""
    company = external.company
    others = ExternalUser.objects.filter(dossier=external.dossier_id).exclude(pk=external.pk)
    if external.dossier is not None and not others.exists():
        dossier = external.dossier
        firm = dossier.firm
        audit.record(company, "dossier.unlinked", dossier, actor=by, firm_id=firm.pk)
        audit.record(firm, "dossier.unlinked", dossier, actor=by, company_id=company.pk)
        signals.dossier_unlinked.send(Dossier, dossier=dossier, firm=firm, company=company, by=by)
        dossier.delete()
    audit.record(company, "external_user.removed", external, actor=by, email=external.email)
    external.delete()


def _hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def issue_token(user: User, label: str = "") -> tuple[ApiToken, str]:
    """A new API token; the raw value is returned once and never stored."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, label=label.strip()[:100], token_hash=_hash_token(raw), prefix=raw[:10]
    )
    return token, raw


def authenticate_token(raw: str) -> User | None:
    token = (
        ApiToken.objects.active().select_related("user").filter(token_hash=_hash_token(raw)).first()
    )
    if token is None:
        return None
    now = timezone.now()
    # Writing on every request would serialise API calls on SQLite; a minute is precise enough.
    if token.last_used_at is None or now - token.last_used_at > dt.timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


@transaction.atomic
def revoke_token(token: ApiToken, *, by: User) -> None:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])


def user_with_email(email: str) -> User | None:
    return User.objects.filter(email=normalise_email(email)).first()


def check_login_allowed(email: str, ip: str, *, device: str = "") -> None:
    """Raise ServiceError `too_many_attempts` when this sign-in must not even be tried. `device`
    is the id of a browser that has signed in to this account before: only its own failures can
    stop it."""
    since = timezone.now() - LOGIN_WINDOW
    recent = LoginFailure.objects.filter(at__gte=since)
    email = normalise_email(email)
    if device:
        locked = (
            recent.filter(email=email, device=device).count()
            >= MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS
        )
    else:
        locked = (
            recent.filter(email=email, ip=ip, device="").count()
            >= MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS
            or recent.filter(ip=ip).count() >= MAX_FAILURES_PER_IP
            or recent.filter(email=email).count() >= MAX_FAILURES_PER_ACCOUNT
        )
    if locked:
        raise ServiceError(
            "too_many_attempts",
            _(
                "Too many failed sign-ins for this account from your network address. Try "
                "again in 15 minutes, or reset your password by e-mail."
            ),
            Kind.TOO_MANY,
            title="Too many attempts",
            retry_after=LOGIN_WINDOW,
        )


def record_login_failure(email: str, ip: str, *, device: str = "") -> None:
    LoginFailure.objects.create(email=normalise_email(email)[:254], ip=ip[:45], device=device)
    # Old rows say nothing any more; dropping them here keeps the table small without a job.
    LoginFailure.objects.filter(at__lt=timezone.now() - LOGIN_WINDOW).delete()


def clear_login_failures(email: str, ip: str, *, device: str = "") -> None:
    """A successful sign-in forgives its own earlier mistakes, not a stranger's guesses."""
    failures = LoginFailure.objects.filter(email=normalise_email(email))
    if device:
        failures.filter(device=device).delete()
    else:
        failures.filter(ip=ip, device="").delete()


def password_was_reset(user: User) -> None:
    """Guesses at the old password mean nothing once it is replaced through the e-mailed link:
    they lock nobody out any more."""
    LoginFailure.objects.filter(email=normalise_email(user.email)).delete()


@transaction.atomic
def set_language(user: User, language: str) -> None:
    user.language = language
    user.save(update_fields=["language"])
