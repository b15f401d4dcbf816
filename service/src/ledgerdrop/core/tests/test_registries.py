"""A registry keeps what connectors register, in order, and refuses two entries for one key."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from ledgerdrop.core.registries import Registry


def test_entries_come_back_in_the_order_they_were_registered() -> None:
    registry: Registry[str] = Registry("test")
    registry.register("b", "second")
    registry.register("a", "first")

    assert list(registry) == ["second", "first"]
    assert registry.get("a") == "first"
    assert registry.get("c") is None


def test_the_same_entry_again_is_harmless_another_under_its_key_is_refused() -> None:
    registry: Registry[str] = Registry("test")
    registry.register("bob-demat", "entry")
    registry.register("bob-demat", "entry")  # a ready() run twice

    with pytest.raises(ImproperlyConfigured, match="'bob-demat' is registered twice"):
        registry.register("bob-demat", "another entry")
    assert list(registry) == ["entry"]
