from django.contrib import admin

from ledgerdrop.core.models import AuditEntry, PeriodicRun


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin[AuditEntry]):
    list_display = ["at", "organisation", "actor", "action", "object_type", "object_id"]
    list_filter = ["action"]


admin.site.register(PeriodicRun)
