from django.contrib import admin
from django.http import HttpRequest

from ledgerdrop.core.models import BackupRun, PeriodicRun

admin.site.register(PeriodicRun)


@admin.register(BackupRun)
class BackupRunAdmin(admin.ModelAdmin[BackupRun]):
    """The nightly backups, newest first: the operator sees at a glance whether last night's
    ran (a failed one also reaches them by e-mail)."""

    list_display = ["started_at", "succeeded", "snapshot", "rows", "files", "files_copied"]
    list_filter = ["succeeded"]
    readonly_fields = [field.name for field in BackupRun._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
