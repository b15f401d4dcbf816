"""A delivery names what it carries by an opaque reference ("documents.document" and an id) and
the company it travels for, instead of a foreign key to a document: `delivery` knows nothing
of documents. Existing deliveries keep their document as that reference."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps
from django.db.models import F, OuterRef, Subquery

DOCUMENT = "documents.document"


def reference_documents(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    Delivery = apps.get_model("delivery", "Delivery")
    Document = apps.get_model("documents", "Document")
    Delivery.objects.filter(document__isnull=False).update(
        source_type=DOCUMENT,
        source_id=F("document_id"),
        company_id=Subquery(
            Document.objects.filter(pk=OuterRef("document_id")).values("company_id")
        ),
    )


def link_documents(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    Delivery = apps.get_model("delivery", "Delivery")
    Document = apps.get_model("documents", "Document")
    Delivery.objects.filter(
        source_type=DOCUMENT, source_id__in=Document.objects.values("pk")
    ).update(document_id=F("source_id"))


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_login_failure_device_signup_attempt"),
        ("documents", "0004_document_eur_rate"),
        ("delivery", "0005_device_online_until"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="delivery",
            name="source_type",
            field=models.CharField(blank=True, max_length=100),
        ),
        migrations.AddField(
            model_name="delivery",
            name="source_id",
            field=models.PositiveBigIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="delivery",
            name="company",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="accounts.organisation",
            ),
        ),
        migrations.RunPython(reference_documents, link_documents),
        migrations.RemoveField(model_name="delivery", name="document"),
        migrations.AddIndex(
            model_name="delivery",
            index=models.Index(
                fields=["source_type", "source_id"], name="delivery_de_source__4f2c8c_idx"
            ),
        ),
    ]
