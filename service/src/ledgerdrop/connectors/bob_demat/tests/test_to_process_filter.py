"""A firm with hundreds of dossiers filters *Documents à traiter* by dossier code: a list of
thousands of options would cost every page seconds."""

from __future__ import annotations

import pytest
from django.test import Client

from ledgerdrop.connectors.bob_demat import forms, services
from tests import builders

pytestmark = pytest.mark.django_db


def test_a_firm_with_many_dossiers_filters_by_dossier_code(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(forms, "LISTED_DOSSIERS", 1)
    user = builders.user()
    firm = builders.firm(owner=user)
    services.enable(firm, by=None)
    dupont, martin = builders.company("Dupont"), builders.company("Martin")
    builders.connected_dossier(firm, dupont, code="DUPONT")
    martin_dossier, _ = builders.connected_dossier(firm, martin, code="MARTIN")
    of_dupont, of_martin = builders.document(dupont), builders.document(martin)
    client = Client(headers={"Accept-Language": "fr"})
    client.force_login(user)
    url = f"/firms/{firm.pk}/documents-to-process/"

    by_code = client.get(url, {"dossier": "dupont"}).content.decode()
    by_link = client.get(url, {"dossier": martin_dossier.pk}).content.decode()
    unknown = client.get(url, {"dossier": "NOPE"}).content.decode()

    assert (
        '<input type="text" name="dossier"' in by_code and '<select name="dossier"' not in by_code
    )
    # By the documents' checkbox ids: a bare `value="…"` may be the dossier field's own value
    # (ids of different tables coincide on PostgreSQL).
    assert f'id="doc-{of_dupont.pk}"' in by_code and f'id="doc-{of_martin.pk}"' not in by_code
    assert f'id="doc-{of_martin.pk}"' in by_link and f'id="doc-{of_dupont.pk}"' not in by_link
    assert "Aucun dossier connecté n&#x27;a le code NOPE." in unknown
