from django.contrib import admin

from ledgerdrop.core.models import PeriodicRun

admin.site.register(PeriodicRun)
