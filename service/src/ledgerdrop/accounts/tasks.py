"""Background work of accounts (thin: the work itself is in the functions it calls)."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.http import urlencode

from ledgerdrop.core.tasks import background


@background
def send_invitation(external_user_id: int, language: str, site_url: str = "") -> None:
    """Mail the invitation of an external user who has no firm account yet (S2)."""
    from ledgerdrop.accounts.models import ExternalUser

    external = ExternalUser.objects.select_related("company", "invited_by").filter(
        pk=external_user_id, dossier__isnull=True
    )
    invitation = external.first()
    if invitation is None:  # linked or removed meanwhile: nothing to say any more
        return
    base = settings.PUBLIC_URL or site_url.rstrip("/")
    context = {
        "company": invitation.company,
        "invited_by": invitation.invited_by,
        "signup_url": f"{base}{reverse('signup-firm')}?{urlencode({'email': invitation.email})}",
    }
    with translation.override(language):
        subject = render_to_string("accounts/email/invitation_subject.txt", context).strip()
        body = render_to_string("accounts/email/invitation.txt", context)
    send_mail(subject, body, None, [invitation.email])
