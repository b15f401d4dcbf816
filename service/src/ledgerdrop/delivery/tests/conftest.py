"""The accountant, the firm and its device the delivery tests act as and on; the connectors'
tests, a floor above, take them too (connectors/tests/conftest.py)."""

from __future__ import annotations

import pytest
from django.test import Client

from ledgerdrop.accounts.models import Organisation, User
from ledgerdrop.delivery import services
from ledgerdrop.delivery.models import Device
from tests import builders


@pytest.fixture
def accountant() -> User:
    return builders.user("kevin@fiduciaire.be")


@pytest.fixture
def firm(accountant: User) -> Organisation:
    return builders.firm("Fiduciaire Kevin", owner=accountant)


@pytest.fixture
def device(firm: Organisation) -> Device:
    return services.register_device(firm, name="PC Kevin", os="Windows 11").device


@pytest.fixture
def browser(accountant: User) -> Client:
    """The accountant, signed in to the service's pages."""
    client = Client()
    client.force_login(accountant)
    return client
