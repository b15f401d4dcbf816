"""The daily digest: a firm hears about a silent device with documents waiting, a device whose
main folder is gone, or failed deliveries, before its clients ask where their invoices are."""

from __future__ import annotations

import datetime as dt

from django.core.mail import send_mail
from django.db.models import Count, Q
from django.template.loader import render_to_string
from django.utils import timezone, translation

from ledgerdrop.accounts.models import Organisation
from ledgerdrop.connectors.bob_demat.models import DigestSent
from ledgerdrop.delivery.models import Delivery, Device

SILENT_AFTER = dt.timedelta(hours=24)


def silent_devices(firm: Organisation, now: dt.datetime) -> list[Device]:
    return list(
        Device.objects.active()
        .filter(firm=firm)
        .filter(Q(last_seen_at__lt=now - SILENT_AFTER) | Q(last_seen_at__isnull=True))
        .annotate(backlog=Count("deliveries", filter=Q(deliveries__state=Delivery.State.QUEUED)))
        .filter(backlog__gt=0)
    )


def unusable_main_folders(firm: Organisation) -> list[Device]:
    """Devices that report their main folder missing, vanished or not writable: nothing can be
    placed there, however long they stay online."""
    return list(
        Device.objects.active()
        .filter(firm=firm)
        .exclude(folder_problem="")
        .annotate(backlog=Count("deliveries", filter=Q(deliveries__state=Delivery.State.QUEUED)))
        .order_by("name", "pk")
    )


def recent_failures(firm: Organisation, now: dt.datetime) -> list[Delivery]:
    return list(
        Delivery.objects.filter(
            firm=firm, state=Delivery.State.FAILED, failed_at__gte=now - SILENT_AFTER
        ).select_related("device")
    )


def send_for(firm: Organisation, now: dt.datetime | None = None) -> bool:
    """Mail the firm's members when something needs them; returns whether a mail went out."""
    now = now or timezone.now()
    devices, failures = silent_devices(firm, now), recent_failures(firm, now)
    blocked = unusable_main_folders(firm)
    if not devices and not failures and not blocked:
        return False
    recipients = list(firm.members.filter(is_active=True).values_list("email", "language"))
    for email, language in recipients:
        with translation.override(language or "fr"):
            context = {
                "firm": firm,
                "devices": devices,
                "failures": failures,
                "blocked": blocked,
            }
            send_mail(
                subject=render_to_string("bob_demat/digest_subject.txt", context).strip(),
                message=render_to_string("bob_demat/digest.txt", context),
                from_email=None,
                recipient_list=[email],
            )
    return bool(recipients)


def send_all() -> int:
    """Each firm's digest for today, once: a firm already done today (the job run again after
    its worker was lost) is passed over. Returns how many firms were mailed."""
    now = timezone.now()
    today = timezone.localdate(now)
    mailed = 0
    firms = (
        Organisation.objects.filter(kind=Organisation.Kind.FIRM, devices__isnull=False)
        .exclude(pk__in=DigestSent.objects.filter(day=today).values("firm"))
        .distinct()
        .order_by("pk")
    )
    for firm in firms:
        mailed += send_for(firm, now)
        DigestSent.objects.get_or_create(firm=firm, day=today)
    return mailed
