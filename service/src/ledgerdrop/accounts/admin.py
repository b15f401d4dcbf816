from __future__ import annotations

from django.contrib import admin

from ledgerdrop.accounts.models import (
    ApiToken,
    AuditEntry,
    Dossier,
    ExternalUser,
    Membership,
    Organisation,
    User,
)


@admin.register(User)
class UserAdmin(admin.ModelAdmin[User]):
    # People sign up themselves and change their password themselves; the admin sees the
    # hash only, and can deactivate an account or grant staff access.
    list_display = ["email", "full_name", "language", "is_active", "is_staff", "date_joined"]
    search_fields = ["email", "full_name"]
    fields = ["email", "full_name", "language", "is_active", "is_staff", "is_superuser",
              "password", "last_login", "date_joined"]  # fmt: skip
    readonly_fields = ["password", "last_login", "date_joined"]


class MembershipInline(admin.TabularInline[Membership, Organisation]):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin[Organisation]):
    list_display = ["name", "kind", "vat_number", "created_at"]
    list_filter = ["kind"]
    search_fields = ["name", "vat_number"]
    inlines = [MembershipInline]


@admin.register(Dossier)
class DossierAdmin(admin.ModelAdmin[Dossier]):
    list_display = ["company", "firm", "created_at"]
    search_fields = ["company__name", "firm__name"]
    raw_id_fields = ["firm", "company"]


@admin.register(ExternalUser)
class ExternalUserAdmin(admin.ModelAdmin[ExternalUser]):
    list_display = ["email", "company", "dossier", "created_at", "linked_at"]
    search_fields = ["email", "company__name"]
    raw_id_fields = ["company", "dossier", "invited_by"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin[ApiToken]):
    # Only the hash is stored: the admin can revoke a token, never read one.
    list_display = ["prefix", "user", "label", "created_at", "last_used_at", "revoked_at"]
    search_fields = ["user__email", "label", "prefix"]
    readonly_fields = ["user", "token_hash", "prefix", "created_at", "last_used_at"]


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin[AuditEntry]):
    list_display = ["at", "organisation", "actor", "action", "object_type", "object_id"]
    list_filter = ["action"]
