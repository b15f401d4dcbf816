"""The foreign keys of a delivery that Django's migration state does not show (migration 0008
says `db_constraint=False`): on PostgreSQL one key (device, firm) → the device's (id, firm),
which refuses a delivery filed under another firm than its device's; on SQLite the two keys of
one column each that it had before. Read from the database's own catalogue, since nothing
else would notice the real constraint missing."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from ledgerdrop.accounts.models import Organisation
from ledgerdrop.core import storage
from ledgerdrop.delivery import services
from ledgerdrop.delivery.models import Delivery, Device
from tests import builders

pytestmark = pytest.mark.django_db

COMPOSITE = "delivery_device_of_firm_fk"


def _delivery(firm: Organisation, device: Device) -> Delivery:
    """A delivery written straight to its table, past `services` (as a bulk insert would)."""
    return Delivery.objects.create(
        firm=firm, device=device, relative_path="DUPONT/achats/f.xml", sha256="a" * 64, size=1
    )


def _foreign_keys_on_postgresql() -> dict[str, tuple[list[str], str, list[str], bool, bool]]:
    """Each foreign key of the deliveries' table: its columns, the table and columns it
    references, and whether it is deferrable and deferred at first."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.conname, c.confrelid::regclass::text, c.condeferrable, c.condeferred,
                   ARRAY(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(n, i)
                         JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n
                         ORDER BY k.i),
                   ARRAY(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY k(n, i)
                         JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n
                         ORDER BY k.i)
            FROM pg_constraint c
            WHERE c.contype = 'f' AND c.conrelid = 'delivery_delivery'::regclass
            """
        )
        return {
            name: (list(columns), table, list(referenced), deferrable, deferred)
            for name, table, deferrable, deferred, columns, referenced in cursor.fetchall()
        }


def _foreign_keys_on_sqlite() -> set[tuple[tuple[str, ...], str, tuple[str, ...]]]:
    """Each foreign key of the deliveries' table: its columns, the table and columns it
    references (PRAGMA lists one row per column, numbered by key)."""
    keys: dict[int, tuple[list[str], str, list[str]]] = {}
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA foreign_key_list(delivery_delivery)")
        for key, _seq, table, column, referenced, *_rest in cursor.fetchall():
            columns, _table, references = keys.setdefault(key, ([], table, []))
            columns.append(column)
            references.append(referenced)
    return {(tuple(columns), table, tuple(refs)) for columns, table, refs in keys.values()}


@pytest.mark.postgresql
def test_on_postgresql_one_key_refuses_a_delivery_filed_under_another_firm() -> None:
    firm, other_firm = builders.firm(), builders.firm()
    device = services.register_device(firm, name="PC Kevin").device

    keys = _foreign_keys_on_postgresql()
    _delivery(firm, device)
    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        _delivery(other_firm, device)
        with connection.cursor() as cursor:  # deferred: checked here rather than at commit
            cursor.execute(f"SET CONSTRAINTS {COMPOSITE} IMMEDIATE")

    assert keys[COMPOSITE] == (
        ["device_id", "firm_id"], "delivery_device", ["id", "firm_id"], True, True,
    )  # fmt: skip
    # It replaced the keys of one column on the device and the firm: no second check per row.
    assert not [
        name for name, (columns, *_rest) in keys.items()
        if columns in (["device_id"], ["firm_id"])
    ]  # fmt: skip
    assert COMPOSITE in str(refused.value)
    assert Delivery.objects.filter(device=device).values_list("firm", flat=True).get() == firm.pk


def test_each_engine_has_its_keys_and_a_delivery_is_queued_for_its_devices_firm() -> None:
    firm = builders.firm()
    device = services.register_device(firm, name="PC Kevin").device

    queued = services.queue_delivery(
        device, relative_path="DUPONT/achats/f.xml", blob=storage.Blob("b" * 64, 1)
    )

    assert queued.firm_id == device.firm_id == firm.pk
    if connection.vendor == "postgresql":
        assert _foreign_keys_on_postgresql()[COMPOSITE][0] == ["device_id", "firm_id"]
        return
    # SQLite cannot add a constraint to a table: no composite key, the two of one column.
    keys = _foreign_keys_on_sqlite()
    assert {
        (("device_id",), "delivery_device", ("id",)),
        (("firm_id",), "accounts_organisation", ("id",)),
    } <= keys
    assert not [columns for columns, _table, _refs in keys if len(columns) > 1]
    with pytest.raises(IntegrityError), transaction.atomic():
        Delivery.objects.filter(pk=queued.pk).update(device_id=device.pk + 1000)
        connection.check_constraints(table_names=["delivery_delivery"])
