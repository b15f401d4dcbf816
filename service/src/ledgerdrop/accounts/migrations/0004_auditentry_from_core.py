import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    """Take over core's audit table as it stands (state only), then give it this app's name."""

    dependencies = [
        ("accounts", "0003_login_failure_device_signup_attempt"),
        ("core", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="AuditEntry",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("at", models.DateTimeField(auto_now_add=True, db_index=True)),
                        ("action", models.CharField(max_length=64)),
                        ("object_type", models.CharField(blank=True, max_length=64)),
                        ("object_id", models.CharField(blank=True, max_length=64)),
                        ("data", models.JSONField(blank=True, default=dict)),
                        (
                            "actor",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "organisation",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="audit_entries",
                                to="accounts.organisation",
                            ),
                        ),
                    ],
                    options={
                        "ordering": ["-at", "-id"],
                        "db_table": "core_auditentry",
                        "indexes": [
                            models.Index(
                                fields=["organisation", "-at"],
                                name="core_audite_organis_21bc5f_idx",
                            )
                        ],
                    },
                )
            ]
        ),
        migrations.RenameIndex(
            model_name="auditentry",
            new_name="accounts_au_organis_931ce7_idx",
            old_name="core_audite_organis_21bc5f_idx",
        ),
        migrations.AlterModelTable(name="auditentry", table=None),
    ]
