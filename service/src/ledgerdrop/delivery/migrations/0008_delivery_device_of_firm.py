"""A delivery's device and firm checked by one foreign key on PostgreSQL: (device, firm)
references (id, firm) of the devices, which proves both exist and, besides, that the device is
the firm's. It replaces the two foreign keys of one column each, one check per queued row fewer
(the nightly transfer queues a million). SQLite keeps its two foreign keys of one column (it
cannot add a constraint to a table); its tables are small."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

COMPOSITE = "delivery_device_of_firm_fk"


def _single_column_keys(schema_editor: BaseDatabaseSchemaEditor) -> list[str]:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname FROM pg_constraint WHERE contype = 'f'"
            " AND conrelid = 'delivery_delivery'::regclass AND array_length(conkey, 1) = 1"
            " AND conkey[1] IN (SELECT attnum FROM pg_attribute"
            "  WHERE attrelid = 'delivery_delivery'::regclass"
            "  AND attname IN ('device_id', 'firm_id'))"
        )
        return [name for (name,) in cursor.fetchall()]


def one_key(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in _single_column_keys(schema_editor):
        schema_editor.execute(f'ALTER TABLE delivery_delivery DROP CONSTRAINT "{name}"')
    schema_editor.execute(
        f"ALTER TABLE delivery_delivery ADD CONSTRAINT {COMPOSITE}"
        " FOREIGN KEY (device_id, firm_id) REFERENCES delivery_device (id, firm_id)"
        " DEFERRABLE INITIALLY DEFERRED"
    )


def two_keys(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"ALTER TABLE delivery_delivery DROP CONSTRAINT {COMPOSITE}")
    for column, table in (("device_id", "delivery_device"), ("firm_id", "accounts_organisation")):
        schema_editor.execute(
            f"ALTER TABLE delivery_delivery ADD CONSTRAINT delivery_{column}_fk"
            f" FOREIGN KEY ({column}) REFERENCES {table} (id) DEFERRABLE INITIALLY DEFERRED"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_auditentry_from_core"),
        ("delivery", "0007_delivery_fewer_indexes"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="device",
            constraint=models.UniqueConstraint(fields=("id", "firm"), name="device_of_firm"),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="delivery",
                    name="firm",
                    field=models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="deliveries",
                        to="accounts.organisation",
                    ),
                ),
                migrations.AlterField(
                    model_name="delivery",
                    name="device",
                    field=models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="deliveries",
                        to="delivery.device",
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(one_key, two_keys)],
        ),
    ]
