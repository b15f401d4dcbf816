"""Lists read in pages (core/paging.py): following the next links shows every row once, in
order, even when rows are added between two pages."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client

from ledgerdrop.accounts.models import Organisation
from ledgerdrop.connectors.bob_demat import services as bob_demat
from ledgerdrop.core import paging
from ledgerdrop.documents.models import Document
from tests import builders

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 11, 2)


def _documents(company: Organisation, days: list[int]) -> list[Document]:
    return [builders.document(company, issue_date=DAY + dt.timedelta(days=d)) for d in days]


def _newest_first(documents: list[Document]) -> list[int]:
    return [d.pk for d in sorted(documents, key=lambda d: (d.issue_date, d.pk), reverse=True)]


def test_the_client_api_pages_show_every_document_once_newest_first() -> None:
    company = builders.company()
    client = Client()
    client.force_login(company.memberships.get().user)
    existing = _documents(company, [0, 3, 3, 3, 1, 5, 2])
    url: str | None = f"/api/v1/companies/{company.pk}/documents?limit=3"
    seen: list[int] = []
    added: list[Document] = []
    while url:
        response = client.get(url)
        assert response.status_code == 200
        seen += [row["id"] for row in response.json()]
        if len(added) < 2:
            # One older than the page just read (it comes later), one newer (it was passed).
            added += _documents(company, [-1, 9])
        link = response.headers.get("Link", "")
        url = re.sub(r"^<https?://[^/]+", "", link.split(">")[0]) if link else None

    assert len(seen) == len(set(seen))
    expected = [pk for pk in _newest_first(existing + added) if pk in set(seen)]
    assert seen == expected
    assert {d.pk for d in existing} <= set(seen)
    assert added[0].pk in seen and added[1].pk not in seen


def test_the_unpaged_api_answers_the_whole_list_as_before() -> None:
    company = builders.company()
    client = Client()
    client.force_login(company.memberships.get().user)
    documents = _documents(company, [0, 1, 2])

    response = client.get(f"/api/v1/companies/{company.pk}/documents")

    assert [row["id"] for row in response.json()] == _newest_first(documents)
    assert "Link" not in response.headers


def test_documents_to_process_pages_show_every_document_once_oldest_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(paging, "PER_PAGE", 2)
    user = builders.user()
    firm = builders.firm(owner=user)
    bob_demat.enable(firm, by=None)
    companies = [builders.company() for _ in range(2)]
    for index, company in enumerate(companies):
        builders.connected_dossier(firm, company, code=f"DOS{index}")
    existing = _documents(companies[0], [4, 1, 1]) + _documents(companies[1], [2, 0, 3])
    client = Client()
    client.force_login(user)
    url: str | None = f"/firms/{firm.pk}/documents-to-process/"
    seen: list[int] = []
    later: Document | None = None
    while url:
        html = client.get(url).content.decode()
        seen += [int(pk) for pk in re.findall(r'name="documents" value="(\d+)"', html)]
        if later is None:
            later = _documents(companies[1], [10])[0]
        found = re.search(r'<a href="(\?[^"]*after=[^"]*)" rel="next"', html)
        url = None
        if found:
            url = f"/firms/{firm.pk}/documents-to-process/" + found.group(1).replace("&amp;", "&")

    assert later is not None
    oldest_first = sorted([*existing, later], key=lambda d: (d.issue_date, d.pk))
    assert seen == [d.pk for d in oldest_first]


def test_a_mangled_cursor_shows_the_first_page() -> None:
    company = builders.company()
    client = Client()
    client.force_login(company.memberships.get().user)
    documents = _documents(company, [0, 1])

    response = client.get(f"/api/v1/companies/{company.pk}/documents?limit=5&after=nonsense")

    assert [row["id"] for row in response.json()] == _newest_first(documents)


def test_a_badge_counts_up_to_its_cap_and_says_more_past_it() -> None:
    company = builders.company()
    _documents(company, [0, 1, 2])
    documents = Document.objects.filter(company=company)

    assert paging.count_label(documents, cap=3) == "3"
    assert paging.count_label(documents, cap=2) == "2+"
