"""State changes of accounts: each is one transaction with its audit row."""

from __future__ import annotations

from django.db import transaction

from ledgerdrop.accounts.models import Dossier, Membership, Organisation, User
from ledgerdrop.core import audit


@transaction.atomic
def create_organisation(
    owner: User, kind: Organisation.Kind, name: str, vat_number: str = ""
) -> Organisation:
    organisation = Organisation.objects.create(kind=kind, name=name, vat_number=vat_number)
    Membership.objects.create(user=owner, organisation=organisation, role=Membership.Role.OWNER)
    audit.record(organisation, "organisation.created", organisation, actor=owner)
    return organisation


@transaction.atomic
def link_accountant(company: Organisation, firm: Organisation, *, by: User | None) -> Dossier:
    """The company makes itself a dossier of the firm (S2). Linking twice changes nothing."""
    dossier, created = Dossier.objects.get_or_create(firm=firm, company=company)
    if created:
        audit.record(company, "dossier.linked", dossier, actor=by, firm_id=firm.pk)
        audit.record(firm, "dossier.linked", dossier, actor=by, company_id=company.pk)
    return dossier
