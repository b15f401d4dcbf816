"""Admin views of documents: read-mostly, since every change goes through `services`."""

from __future__ import annotations

from django.contrib import admin

from ledgerdrop.documents.models import Document, DocumentLine, InvoicingProfile, NumberSequence


class DocumentLineInline(admin.TabularInline[DocumentLine, Document]):
    model = DocumentLine
    extra = 0
    can_delete = False
    readonly_fields = [
        "position",
        "description",
        "quantity",
        "unit_price",
        "vat_category",
        "vat_rate",
        "exemption_reason",
    ]


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin[Document]):
    list_display = ["number", "kind", "status", "company", "issue_date", "total", "source"]
    list_filter = ["kind", "status", "source", "validation_status"]
    search_fields = ["number", "counterparty_name", "company__name"]
    date_hierarchy = "issue_date"
    inlines = [DocumentLineInline]
    # Numbers, files and checks are facts of an issued document: the admin shows them only.
    readonly_fields = [
        "number",
        "series",
        "fiscal_year",
        "sequence",
        "ubl_sha256",
        "ubl_size",
        "pdf_sha256",
        "pdf_size",
        "source_sha256",
        "source_size",
        "validation",
        "validation_status",
    ]


@admin.register(InvoicingProfile)
class InvoicingProfileAdmin(admin.ModelAdmin[InvoicingProfile]):
    list_display = ["company", "enterprise_number", "iban", "inbox_key"]
    search_fields = ["company__name", "enterprise_number", "inbox_key"]


@admin.register(NumberSequence)
class NumberSequenceAdmin(admin.ModelAdmin[NumberSequence]):
    list_display = ["company", "series", "year", "last"]
    readonly_fields = ["company", "series", "year", "last"]
