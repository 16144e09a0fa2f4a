"""Admin page of reconciliation runs: read-only, newest first, filtered by outcome."""
from __future__ import annotations

from django.contrib import admin

from core.admin import ReadOnlyAdmin
from reconcile.models import ReconcileRun


@admin.register(ReconcileRun)
class ReconcileRunAdmin(ReadOnlyAdmin):
    list_display = ("started_at", "trigger", "outcome", "chats_seen", "messages_found", "calls", "since",
                    "watermark", "finished_at", "error")
    list_filter = ("outcome", "trigger")
    date_hierarchy = "started_at"

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # the history of runs is what /health and the status board read
