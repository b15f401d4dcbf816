"""Every state change of devices and deliveries: one transaction, an audit row, and the wake-up
of the device's long-poll once the transaction has committed."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from django.db import connection, models, transaction
from django.db.models import Count, F, Max, Min, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from ledgerdrop.accounts import audit
from ledgerdrop.accounts.models import Organisation, User
from ledgerdrop.core import storage
from ledgerdrop.core.errors import Kind, ServiceError
from ledgerdrop.delivery import folders
from ledgerdrop.delivery.models import (
    ONLINE_AFTER_CONTACT,
    UNLINKED,
    CodeGuess,
    Delivery,
    Device,
    DevicePairing,
    EnrolmentKey,
    hash_secret,
    new_secret,
    root_folder_error,
    source_type,
)
from ledgerdrop.delivery.wakeups import wake_on_commit
from ledgerdrop_protocol import Ack, DeviceStatus, FailReport, PairingRequest, TokenRequest

PAIRING_LIFETIME = dt.timedelta(minutes=15)
ENROLMENT_KEY_LIFETIME = dt.timedelta(days=7)
POLL_INTERVAL_SECONDS = 5
# RFC 8628 §6.1: user codes from an alphabet without look-alikes (no vowels, no 0/O, 1/I).
USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"
# RFC 8628 §5.1: with 20^8 codes alive for 15 minutes, a few dozen wrong guesses per quarter of
# an hour make finding somebody else's pending code hopeless, yet leave room for typos.
GUESS_WINDOW = dt.timedelta(minutes=15)
MAX_WRONG_GUESSES_PER_USER = 10
MAX_WRONG_GUESSES_PER_FIRM = 30
# A device with work waiting that has not asked for it for this long needs someone to look.
SILENT_AFTER = dt.timedelta(hours=1)


@dataclass(frozen=True)
class IssuedCredential:
    device: Device
    token: str


# ---- devices -----------------------------------------------------------------------------


@transaction.atomic
def register_device(
    firm: Organisation,
    *,
    name: str,
    hostname: str = "",
    os: str = "",
    os_user: str = "",
    agent_version: str = "",
    root_folder: str | None = None,
    by: User | None = None,
) -> IssuedCredential:
    """Create a device of the firm with its credential; the token is shown this once only."""
    token = new_secret("ldd")
    device = Device.objects.create(
        firm=firm,
        name=name,
        hostname=hostname,
        os=os,
        os_user=os_user,
        agent_version=agent_version,
        root_folder=root_folder or Device.default_root_folder(os),
        token_hash=hash_secret(token),
    )
    audit.record(firm, "device.registered", device, actor=by, name=name, hostname=hostname)
    return IssuedCredential(device=device, token=token)


def authenticate_device(token: str) -> Device | None:
    return (
        Device.objects.active().select_related("firm").filter(token_hash=hash_secret(token)).first()
    )


def note_contact(device: Device) -> None:
    """The device just made a request: it is online for a little while (ONLINE_AFTER_CONTACT)."""
    # Requests every few seconds from every device must not turn into a write each: only
    # write once what is stored would soon say "offline".
    now = timezone.now()
    if device.online_until is None or device.online_until - now < ONLINE_AFTER_CONTACT / 2:
        until = max(now + ONLINE_AFTER_CONTACT, device.online_until or now)
        Device.objects.filter(pk=device.pk).update(last_seen_at=now, online_until=until)
        device.last_seen_at, device.online_until = now, until


# ---- presence while a long-poll is held (delivery/longpoll.py) -----------------------------
# Each returns or takes the `online_until` it wrote, and later writes only if that value is
# still the stored one: another request of the device meanwhile has the last word.


def note_poll_held(device: Device, until: dt.datetime) -> dt.datetime:
    """A long-poll of the device is held until `until`: online till then, plus a moment to ask
    again. Returns the mark to pass to `note_poll_dropped` / `note_poll_answered`."""
    now = timezone.now()
    mark = max(until + ONLINE_AFTER_CONTACT, device.online_until or now)
    Device.objects.filter(pk=device.pk).update(last_seen_at=now, online_until=mark)
    device.last_seen_at, device.online_until = now, mark
    return mark


def note_poll_dropped(device_id: int, mark: dt.datetime) -> None:
    """The connection of a held long-poll dropped: the downloader stopped or its machine left
    the network. The device is offline from now on, not at the end of the wait."""
    now = timezone.now()
    Device.objects.filter(pk=device_id, online_until=mark).update(
        last_seen_at=now, online_until=now
    )


def note_poll_answered(device_id: int, mark: dt.datetime) -> None:
    """A held long-poll is answered early (something to fetch): the downloader is busy and asks
    again soon, so it stays online for a little while, not to the end of the wait."""
    now = timezone.now()
    Device.objects.filter(pk=device_id, online_until=mark).update(
        last_seen_at=now, online_until=now + ONLINE_AFTER_CONTACT
    )


@transaction.atomic
def revoke_device(device: Device, *, by: User | None) -> None:
    """Revocation takes effect on the device's next request: its token no longer matches."""
    Device.objects.filter(pk=device.pk).update(revoked_at=timezone.now(), token_hash=None)
    audit.record(device.firm, "device.revoked", device, actor=by)
    wake_on_commit(device.pk)


@transaction.atomic
def update_device(
    device: Device,
    *,
    name: str | None = None,
    root_folder: str | None = None,
    is_shared_server: bool | None = None,
    by: User | None,
) -> Device:
    """Rename a device, move its main folder, or mark it as the firm's shared server; the
    device reads the folder in its next offer. A folder the downloader would refuse is refused
    here first: a network folder only on the shared server, never a root, system, program,
    start-up or profile location; nor one below which a connection's files would be too long
    for Windows."""
    changes: dict[str, str] = {}
    if name is not None:
        name = name.strip()
        if not name or len(name) > 100:
            raise ServiceError(
                "invalid_name",
                _("A device name has 1 to 100 characters."),
                Kind.INVALID,
            )
        changes["name"] = name
    if root_folder is not None:
        root_folder = root_folder.strip()
        if len(root_folder) > 255:
            raise ServiceError(
                "invalid_root_folder",
                _("The main folder has at most 255 characters."),
                Kind.INVALID,
            )
        changes["root_folder"] = root_folder
    shared = device.is_shared_server if is_shared_server is None else is_shared_server
    folder = changes.get("root_folder", device.root_folder)
    if "root_folder" in changes or (device.is_shared_server and not shared):
        error = root_folder_error(folder, shared_server=shared)
        if error is not None:
            raise ServiceError("invalid_root_folder", str(error.messages[0]), Kind.INVALID)
    if folder != device.root_folder:
        # The connections' files must still fit below it (the connectors check, see `folders`).
        folders.check_main_folder(device, folder)
    if shared and not device.is_shared_server:
        _check_shared_server_can_move(device)
    if changes:
        if "root_folder" in changes and changes["root_folder"] != device.root_folder:
            # What the device said was about the old folder; it reports on the new one at once.
            changes |= {
                "folder_problem": "",
                "folder_problem_message": "",
                "reported_main_folder": "",
            }
        Device.objects.filter(pk=device.pk).update(**changes)
        for field, value in changes.items():
            setattr(device, field, value)
        audit.record(
            device.firm,
            "device.updated",
            device,
            actor=by,
            **{field: changes[field] for field in ("name", "root_folder") if field in changes},
        )
        if "root_folder" in changes:
            wake_on_commit(device.pk)  # the waiting poll answers with the new main folder
    if shared != device.is_shared_server:
        set_shared_server(device, shared, by=by)
    return device


def _check_shared_server_can_move(device: Device) -> None:
    """The mark moves from the firm's current shared server to `device`, unless that one's main
    folder is a network folder, which only the shared server may use."""
    current = Device.objects.active().filter(firm_id=device.firm_id, is_shared_server=True)
    for other in current.exclude(pk=device.pk):
        if root_folder_error(other.root_folder, shared_server=False) is not None:
            raise ServiceError(
                "shared_server_on_network_folder",
                _(
                    "%(name)s is the shared server and its main folder is a network folder: "
                    "give it another main folder first."
                )
                % {"name": other.name},
                Kind.CONFLICT,
            )


@transaction.atomic
def report_status(device: Device, status: DeviceStatus) -> Device:
    """Record what the downloader found in its main folder. A device reports only changes, and
    each change of the problem is audited: "since when" is what the firm asks first."""
    problem = status.problem.value if status.problem else ""
    locked = Device.objects.select_for_update().get(pk=device.pk)
    changed = problem != locked.folder_problem
    locked.folder_problem = problem
    locked.folder_problem_message = status.message if problem else ""
    locked.reported_main_folder = status.main_folder
    if changed:
        locked.folder_problem_since = timezone.now() if problem else None
    locked.save(
        update_fields=[
            "folder_problem",
            "folder_problem_message",
            "folder_problem_since",
            "reported_main_folder",
        ]
    )
    if changed:
        audit.record(
            locked.firm,
            "device.main_folder_problem" if problem else "device.main_folder_ready",
            locked,
            problem=problem,
            main_folder=status.main_folder,
        )
    return locked


@transaction.atomic
def set_shared_server(device: Device, shared: bool, *, by: User | None) -> Device:
    """Make this device the firm's shared server (taking the mark from any other), or not."""
    if shared:
        Device.objects.filter(firm_id=device.firm_id, is_shared_server=True).exclude(
            pk=device.pk
        ).update(is_shared_server=False)
    Device.objects.filter(pk=device.pk).update(is_shared_server=shared)
    device.is_shared_server = shared
    audit.record(device.firm, "device.shared_server", device, actor=by, shared=shared)
    return device


@dataclass(frozen=True)
class DeviceHealth:
    """A device as its firm's page shows it: backlog, failures and what needs attention."""

    device: Device
    backlog: int
    failed: int
    last_failure_at: dt.datetime | None
    oldest_queued_at: dt.datetime | None

    @property
    def silent(self) -> bool:
        """Work is waiting and the device has not asked for it for over an hour."""
        if not self.backlog:
            return False
        seen = self.device.last_seen_at
        return seen is None or timezone.now() - seen > SILENT_AFTER

    @property
    def needs_attention(self) -> bool:
        return self.silent or self.failed > 0 or bool(self.device.folder_problem)


def device_health(firm: Organisation) -> list[DeviceHealth]:
    """Every active device of the firm with its counts: two queries, whatever their number."""
    queued = Q(state=Delivery.State.QUEUED)
    failed = Q(state=Delivery.State.FAILED)
    counts = {
        row["device_id"]: row
        for row in Delivery.objects.filter(
            firm=firm, state__in=[Delivery.State.QUEUED, Delivery.State.FAILED]
        )
        .order_by()
        .values("device_id")
        .annotate(
            backlog=Count("id", filter=queued),
            failed=Count("id", filter=failed),
            last_failure_at=Max("failed_at", filter=failed),
            oldest_queued_at=Min("queued_at", filter=queued),
        )
    }
    none: dict[str, Any] = {}
    return [
        DeviceHealth(
            device=device,
            backlog=counts.get(device.pk, none).get("backlog", 0),
            failed=counts.get(device.pk, none).get("failed", 0),
            last_failure_at=counts.get(device.pk, none).get("last_failure_at"),
            oldest_queued_at=counts.get(device.pk, none).get("oldest_queued_at"),
        )
        for device in Device.objects.active().filter(firm=firm).select_related("firm")
    ]


def deliveries_of(
    firm: Organisation,
    *,
    state: str | None = None,
    source: tuple[str, int] | None = None,
) -> QuerySet[Delivery]:
    """The firm's delivery history, newest first, with the reasons of failures; only the
    copies of one object when `source` is given (its `source_type` and id)."""
    deliveries = Delivery.objects.filter(firm=firm).select_related("device")
    if state:
        deliveries = deliveries.filter(state=state)
    if source is not None:
        deliveries = deliveries.filter(source_type=source[0], source_id=source[1])
    return deliveries.order_by("-id")


# ---- pairing (RFC 8628) and enrolment keys ------------------------------------------------


def _new_user_code() -> str:
    letters = "".join(secrets.choice(USER_CODE_ALPHABET) for _ in range(8))
    return f"{letters[:4]}-{letters[4:]}"


@transaction.atomic
def start_pairing(request: PairingRequest) -> tuple[DevicePairing, str]:
    device_code = new_secret("ldp")
    pairing = DevicePairing.objects.create(
        device_code_hash=hash_secret(device_code),
        user_code=_new_user_code(),
        name=request.name,
        hostname=request.hostname,
        os=request.os,
        os_user=request.os_user,
        agent_version=request.agent_version,
        interval=POLL_INTERVAL_SECONDS,
        expires_at=timezone.now() + PAIRING_LIFETIME,
    )
    return pairing, device_code


def normalise_user_code(user_code: str) -> str:
    letters = "".join(ch for ch in user_code.upper() if ch.isalnum())
    return f"{letters[:4]}-{letters[4:]}"


def find_pending_pairing(user_code: str) -> DevicePairing | None:
    return (
        DevicePairing.objects.filter(
            user_code=normalise_user_code(user_code),
            state=DevicePairing.State.PENDING,
            expires_at__gt=timezone.now(),
        )
        .order_by("-id")
        .first()
    )


def check_user_code(firm: Organisation, user_code: str, *, by: User | None) -> DevicePairing:
    """The pending pairing a firm user's code names. Every guess is counted, and wrong ones
    beyond the limits (per user and per firm) are refused before the code is even looked at."""
    pairing = _guess(firm, user_code, by)
    if isinstance(pairing, ServiceError):
        raise pairing
    return pairing


@transaction.atomic
def _guess(firm: Organisation, user_code: str, by: User | None) -> DevicePairing | ServiceError:
    # The refusal is returned, not raised, so that the guess itself is committed.
    since = timezone.now() - GUESS_WINDOW
    wrong = CodeGuess.objects.filter(at__gte=since, matched=False)
    if (by is not None and wrong.filter(user=by).count() >= MAX_WRONG_GUESSES_PER_USER) or (
        wrong.filter(firm=firm).count() >= MAX_WRONG_GUESSES_PER_FIRM
    ):
        return ServiceError(
            "too_many_attempts",
            _(
                "Too many wrong codes were entered. Wait 15 minutes, then enter the code the "
                "downloader shows now."
            ),
            Kind.TOO_MANY,
        )
    pairing = find_pending_pairing(user_code)
    CodeGuess.objects.create(firm=firm, user=by, matched=pairing is not None)
    if pairing is None:
        return ServiceError(
            "unknown_user_code",
            _(
                "This code is unknown, already used or expired. Start the pairing again on the "
                "device (ledgerdrop-agent pair) and enter the new code."
            ),
            Kind.NOT_FOUND,
        )
    return pairing


def approve_pairing(
    firm: Organisation, user_code: str, *, name: str | None = None, by: User | None
) -> Device:
    """A firm user confirms the code the downloader shows; the device joins the firm."""
    device = _decide(firm, check_user_code(firm, user_code, by=by), approve=True, name=name, by=by)
    assert device is not None
    return device


def deny_pairing(firm: Organisation, user_code: str, *, by: User | None) -> DevicePairing:
    """A firm user refuses a code it does not recognise; the downloader gets access_denied."""
    pairing = check_user_code(firm, user_code, by=by)
    _decide(firm, pairing, approve=False, name=None, by=by)
    pairing.refresh_from_db()
    return pairing


@transaction.atomic
def _decide(
    firm: Organisation,
    pairing: DevicePairing,
    *,
    approve: bool,
    name: str | None,
    by: User | None,
) -> Device | None:
    """Approve (the new device) or deny (None) a pending pairing."""
    # Locked and checked again: two people may confirm the same code at the same moment, and
    # a code is used once.
    locked = DevicePairing.objects.select_for_update().get(pk=pairing.pk)
    if locked.state != DevicePairing.State.PENDING or locked.is_expired:
        raise ServiceError(
            "unknown_user_code",
            _("This code was used or expired meanwhile. Start the pairing again on the device."),
            Kind.NOT_FOUND,
        )
    if not approve:
        locked.state = DevicePairing.State.DENIED
        locked.approved_by = by
        locked.save(update_fields=["state", "approved_by"])
        audit.record(firm, "device.pairing_denied", locked, actor=by, hostname=locked.hostname)
        return None
    device = Device.objects.create(
        firm=firm,
        name=(name or "").strip()[:100] or locked.name,
        hostname=locked.hostname,
        os=locked.os,
        os_user=locked.os_user,
        agent_version=locked.agent_version,
        root_folder=Device.default_root_folder(locked.os),
    )
    locked.state = DevicePairing.State.APPROVED
    locked.device = device
    locked.approved_by = by
    locked.save(update_fields=["state", "device", "approved_by"])
    audit.record(firm, "device.paired", device, actor=by, hostname=device.hostname)
    return device


def exchange_for_token(request: TokenRequest) -> IssuedCredential:
    """The token endpoint: a credential, or the RFC 8628 error to poll on with (its code is
    `authorization_pending`, `slow_down`, …, which the device API answers in OAuth's shape)."""
    outcome = _enrol(request) if request.enrolment_key else _poll_pairing(request)
    if isinstance(outcome, ServiceError):
        raise outcome
    return outcome


@transaction.atomic
def _poll_pairing(request: TokenRequest) -> IssuedCredential | ServiceError:
    # Errors are returned, not raised, so that the poll's bookkeeping (last poll, interval)
    # commits: slow_down depends on it.
    assert request.device_code is not None
    pairing = (
        DevicePairing.objects.select_for_update()
        .filter(device_code_hash=hash_secret(request.device_code))
        .first()
    )
    if pairing is None or pairing.state == DevicePairing.State.CONSUMED:
        return ServiceError(
            "invalid_grant", "This device code is unknown or was already used.", Kind.INVALID
        )
    if pairing.state == DevicePairing.State.DENIED:
        return ServiceError(
            "access_denied", "The pairing was refused on the server.", Kind.FORBIDDEN
        )
    if pairing.state == DevicePairing.State.PENDING:
        if pairing.is_expired:
            return ServiceError(
                "expired_token", "The code expired before anyone entered it.", Kind.GONE
            )
        now = timezone.now()
        too_soon = pairing.last_polled_at and (
            now - pairing.last_polled_at < dt.timedelta(seconds=pairing.interval)
        )
        pairing.last_polled_at = now
        if too_soon:
            pairing.interval += 5  # RFC 8628 §3.5: slow_down adds 5 seconds
            pairing.save(update_fields=["last_polled_at", "interval"])
            return ServiceError(
                "slow_down", f"Poll at most every {pairing.interval} seconds.", Kind.TOO_MANY
            )
        pairing.save(update_fields=["last_polled_at"])
        return ServiceError(
            "authorization_pending", "Waiting for the code to be entered.", Kind.CONFLICT
        )
    device = pairing.device
    assert device is not None
    token = new_secret("ldd")
    device.token_hash = hash_secret(token)
    # It just called: shown online from the start.
    device.last_seen_at = timezone.now()
    device.online_until = device.last_seen_at + ONLINE_AFTER_CONTACT
    device.save(update_fields=["token_hash", "last_seen_at", "online_until"])
    pairing.state = DevicePairing.State.CONSUMED
    pairing.save(update_fields=["state"])
    return IssuedCredential(device=device, token=token)


@transaction.atomic
def mint_enrolment_key(firm: Organisation, *, by: User | None) -> tuple[EnrolmentKey, str]:
    key = new_secret("lde")
    enrolment_key = EnrolmentKey.objects.create(
        firm=firm,
        key_hash=hash_secret(key),
        created_by=by,
        expires_at=timezone.now() + ENROLMENT_KEY_LIFETIME,
    )
    audit.record(firm, "device.enrolment_key_created", enrolment_key, actor=by)
    return enrolment_key, key


@transaction.atomic
def _enrol(request: TokenRequest) -> IssuedCredential | ServiceError:
    assert request.enrolment_key is not None
    key = (
        EnrolmentKey.objects.select_for_update()
        .select_related("firm")
        .filter(key_hash=hash_secret(request.enrolment_key))
        .first()
    )
    if key is None or key.used_at is not None:
        return ServiceError(
            "invalid_grant", "This enrolment key is unknown or was already used.", Kind.INVALID
        )
    if timezone.now() >= key.expires_at:
        return ServiceError(
            "expired_token", "This enrolment key has expired; mint a new one.", Kind.GONE
        )
    credential = register_device(
        key.firm,
        name=request.name or request.hostname or "downloader",
        hostname=request.hostname,
        os=request.os,
        os_user=request.os_user,
        agent_version=request.agent_version,
    )
    key.used_at = timezone.now()
    key.device = credential.device
    key.save(update_fields=["used_at", "device"])
    note_contact(credential.device)
    return credential


# ---- deliveries ---------------------------------------------------------------------------


@transaction.atomic
def queue_delivery(
    device: Device,
    *,
    relative_path: str,
    blob: storage.Blob,
    source: models.Model | None = None,
    company: Organisation | None = None,
    by: User | None = None,
) -> Delivery:
    """Queue a stored file for a device: a copy of `source` (a document, say), sent for
    `company`. The device's long-poll wakes as soon as this commits."""
    delivery = Delivery.objects.create(
        firm=device.firm,
        device=device,
        source_type=source_type(source) if source is not None else "",
        source_id=source.pk if source is not None else None,
        company=company,
        relative_path=relative_path,
        sha256=blob.sha256,
        size=blob.size,
        queued_by=by,
    )
    audit.record(device.firm, "delivery.queued", delivery, actor=by, path=relative_path)
    wake_on_commit(device.pk)  # other server processes hear of it when this commits
    return delivery


# The columns a SELECT gives `queue_selected`, and those it leaves blank (nothing happened yet).
_PICKED = ("firm_id", "device_id", "source_id", "company_id", "relative_path", "sha256", "size")
_BLANK = ("placed_path", "failure_reason", "failure_message")


def queue_selected(
    picked: str,
    params: Sequence[Any],
    *,
    source: type[models.Model],
    at: dt.datetime,
    order_by: str,
    link: str,
    link_params: Sequence[Any] = (),
    wake: Iterable[int] = (),
) -> Counter[object]:
    """Queue, in a few statements whatever their number, one delivery per row of the SELECT
    `picked` (columns firm_id, device_id, source_id — a `source` id —, company_id, relative_path,
    sha256, size, and any the caller needs), stamped queued at `at`. Then `link`, an
    INSERT … SELECT … RETURNING one column `link_key` that reads `picked` and `queued` (id,
    firm_id, device_id, source_id, company_id of the new deliveries), records them on the
    caller's side — where a unique constraint makes a second run fail rather than queue
    anything twice. Returns how many rows `link` inserted per key; the devices in `wake` hear
    of it on commit, once each.

    Call it inside a transaction: the caller audits once per run, not per delivery."""
    table = connection.ops.quote_name(Delivery._meta.db_table)
    columns = ", ".join((*_PICKED, "source_type", "state", "queued_at", *_BLANK))
    values = ", ".join((*(f"picked.{name}" for name in _PICKED), *["%s"] * (3 + len(_BLANK))))
    # Names and placeholders only; every value is a parameter.
    insert = f"INSERT INTO {table} ({columns}) SELECT {values} FROM picked ORDER BY {order_by}"  # noqa: S608
    stamp = connection.ops.adapt_datetimefield_value(at)
    insert_params = [source_type(source), Delivery.State.QUEUED, stamp, *[""] * len(_BLANK)]
    counts: Counter[object] = Counter()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Its sorts (by `order_by`, and to join `link`) hold a batch of some 50,000 rows:
            # in memory rather than in temporary files, for this transaction only.
            cursor.execute("SET LOCAL work_mem = '64MB'", [])
            # One statement: the new rows reach `link` through RETURNING, and nobody else's
            # deliveries, whatever runs at the same time.
            cursor.execute(
                f"WITH picked AS MATERIALIZED ({picked}), "  # noqa: S608
                f"queued AS ({insert} RETURNING id, firm_id, device_id, source_id, company_id), "
                f"linked AS ({link}) SELECT link_key, count(*) FROM linked GROUP BY link_key",
                [*params, *insert_params, *link_params],
            )
            counts.update(dict(cursor.fetchall()))
        else:
            # SQLite has no INSERT inside WITH. Every transaction here holds the one write lock
            # from its start (BEGIN IMMEDIATE), so the rows past the largest id are ours.
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}", [])  # noqa: S608
            (before,) = cursor.fetchone()
            cursor.execute(f"WITH picked AS ({picked}) {insert}", [*params, *insert_params])
            cursor.execute(
                f"WITH picked AS ({picked}), queued AS (SELECT id, firm_id, device_id, source_id, "  # noqa: S608
                f"company_id FROM {table} WHERE id > %s) {link}",
                [*params, before, *link_params],
            )
            counts.update(key for (key,) in cursor.fetchall())
    for device_id in set(wake):
        wake_on_commit(device_id)
    return counts


@dataclass(frozen=True)
class ToldToDevice:
    """What every offer tells a device besides the files: its main folder, the folders to
    keep, and a token of both that it sends back to learn of a change at once."""

    root_folder: str
    folders: list[str]

    @property
    def state(self) -> str:
        text = "\n".join([self.root_folder, *self.folders])
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def told_to_device(device: Device) -> ToldToDevice:
    return ToldToDevice(root_folder=device.root_folder, folders=folders.folders_for(device))


class OfferedFile(NamedTuple):
    """What an offer and a bundle need of a delivery: read as plain values, since a model
    instance per file costs more than the rest of its way to the device."""

    id: int
    relative_path: str
    size: int
    sha256: str


_OFFERED_FIELDS = ("id", "relative_path", "size", "sha256")


def pending_offers(device: Device, limit: int, after: int | None = None) -> list[OfferedFile]:
    """Queued deliveries of this device, oldest first; unacked ones are offered again. With
    `after`, only those with a greater id: the next page, for a downloader still placing the
    previous one."""
    queued = Delivery.objects.filter(device=device, state=Delivery.State.QUEUED)
    if after is not None:
        queued = queued.filter(id__gt=after)
    rows = queued.order_by("id").values_list(*_OFFERED_FIELDS)[:limit]
    return [OfferedFile(*row) for row in rows]


def bundle_files(device: Device, ids: Iterable[int]) -> list[OfferedFile]:
    """The deliveries of this device among `ids` whose content it may still fetch, by id."""
    rows = (
        Delivery.objects.filter(device=device, pk__in=ids)
        .exclude(state=Delivery.State.CANCELLED)
        .order_by("id")
        .values_list(*_OFFERED_FIELDS)
    )
    return [OfferedFile(*row) for row in rows]


@transaction.atomic
def acknowledge(device: Device, acks: Iterable[Ack]) -> list[int]:
    """Mark deliveries placed on the device. Idempotent: a repeated ack changes nothing.

    A downloader acks hundreds of files at once, so this is a few statements and one audit row
    for the whole batch, not a few per file: acks are what a big transfer spends most server
    time on. Rows are read as plain values: a model instance per file costs more than its
    update."""
    by_id = {ack.id: ack for ack in acks}
    found: dict[int, tuple[str, str, str]] = {
        row[0]: row[1:]
        for row in Delivery.objects.select_for_update()
        .filter(device=device, id__in=by_id)
        .values_list("id", "state", "sha256", "relative_path")
    }
    missing = sorted(set(by_id) - set(found))
    if missing:
        raise ServiceError(
            "unknown_delivery",
            f"No delivery {missing} for this device.",
            Kind.NOT_FOUND,
        )
    if cancelled := sorted(
        i for i, (state, _, _) in found.items() if state == Delivery.State.CANCELLED
    ):
        raise _cancelled_error(cancelled)
    fresh = [i for i in by_id if found[i][0] != Delivery.State.DELIVERED]
    for delivery_id in fresh:
        if by_id[delivery_id].sha256 != found[delivery_id][1]:
            raise ServiceError(
                "checksum_mismatch",
                f"Delivery {delivery_id} was acknowledged with a different SHA-256 "
                "than the file that was offered.",
                Kind.INVALID,
            )
    if not fresh:
        return sorted(by_id)
    delivered = {
        "state": Delivery.State.DELIVERED,
        "delivered_at": timezone.now(),
        "failure_reason": "",
        "failure_message": "",
    }
    # A name already taken on the device: placed with a suffix.
    renamed = {i: by_id[i].placed_path for i in fresh if by_id[i].placed_path != found[i][2]}
    as_offered = [i for i in fresh if i not in renamed]
    Delivery.objects.filter(id__in=as_offered).update(placed_path=F("relative_path"), **delivered)
    for delivery_id, placed_path in renamed.items():
        Delivery.objects.filter(id=delivery_id).update(placed_path=placed_path, **delivered)
    # One row for the batch: which deliveries, and where those not placed under their own name
    # went (the others' `placed_path` is their `relative_path`).
    audit.record(
        device.firm,
        "delivery.delivered",
        device,
        deliveries=sorted(fresh),
        renamed={str(i): path for i, path in sorted(renamed.items())},
    )
    return sorted(by_id)


@transaction.atomic
def report_failure(device: Device, delivery_id: int, report: FailReport) -> Delivery:
    delivery = Delivery.objects.select_for_update().filter(device=device, id=delivery_id).first()
    if delivery is None:
        raise ServiceError(
            "unknown_delivery",
            f"No delivery {delivery_id} for this device.",
            Kind.NOT_FOUND,
        )
    if delivery.state == Delivery.State.DELIVERED:
        raise ServiceError(
            "already_delivered",
            "This delivery was already acknowledged as placed.",
            Kind.CONFLICT,
        )
    if delivery.state == Delivery.State.CANCELLED:
        raise _cancelled_error([delivery.pk])
    delivery.state = Delivery.State.FAILED
    delivery.failed_at = timezone.now()
    delivery.failure_reason = report.reason.value
    delivery.failure_message = report.message
    delivery.save(update_fields=["state", "failed_at", "failure_reason", "failure_message"])
    audit.record(
        device.firm, "delivery.failed", delivery, reason=report.reason.value, message=report.message
    )
    return delivery


def _cancelled_error(ids: list[int]) -> ServiceError:
    return ServiceError(
        "cancelled",
        f"Delivery {ids} was cancelled before it was placed: do not place it.",
        Kind.CONFLICT,
    )


def cancel_on_unlink(
    sender: object, *, firm: Organisation, company: Organisation, by: User | None, **kwargs: Any
) -> None:
    """`accounts.signals.dossier_unlinked`: the company removed its accountant."""
    cancel_company_deliveries(firm, company, by=by)


@transaction.atomic
def cancel_company_deliveries(
    firm: Organisation, company: Organisation, *, by: User | None
) -> list[int]:
    """Cancel what the firm's devices were still to place for this company (queued, or failed
    and so waiting to be sent again): they are offered no more and their content is refused.
    The firm's history keeps what it had received; of the cancelled deliveries it keeps only
    that they were cancelled and why, not what they carried, for whom, or where to."""
    pending = list(
        Delivery.objects.select_for_update()
        .filter(
            firm=firm,
            company=company,
            state__in=[Delivery.State.QUEUED, Delivery.State.FAILED],
        )
        .order_by("id")
    )
    if not pending:
        return []
    ids = [delivery.pk for delivery in pending]
    Delivery.objects.filter(id__in=ids).update(
        state=Delivery.State.CANCELLED,
        cancelled_at=timezone.now(),
        failure_reason=UNLINKED,
        failure_message="",  # said in the reader's language: Delivery.failure_text
        source_type="",
        source_id=None,
        company=None,
        relative_path="",
    )
    audit.record_many(
        firm,
        "delivery.cancelled",
        [(delivery, {"reason": UNLINKED, "by_company_id": company.pk}) for delivery in pending],
        actor=by,
    )
    for device_id in {delivery.device_id for delivery in pending}:
        wake_on_commit(device_id)  # a device mid-batch hears at once that the offers are gone
    return ids
