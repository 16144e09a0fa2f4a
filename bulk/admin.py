"""Admin pages for bulk jobs: progress at a glance, every item inline, and a cancel action.

Jobs and items are written by the gateway only, so every field is read-only and nothing
can be added here; cancelling goes through the same service as the API, and only for
staff with bulk.cancel_bulkjob (seeing a job is not stopping it).
"""
from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Count, Q
from django.utils.html import format_html

from core.errors import GatewayError
from bulk.models import BulkItem, BulkItemStatus, BulkJob
from bulk.services import bulk_job_cancel

CANCEL_PERMISSION = "bulk.cancel_bulkjob"


class BulkItemInline(admin.TabularInline):
    model = BulkItem
    fields = ("index", "chat_id", "kind", "payload", "status", "attempts", "message_id", "error", "finished_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("index",)

    def has_add_permission(self, request, obj=None) -> bool:
        return False


def _count(status: str) -> Count:
    return Count("items", filter=Q(items__status=status))


@admin.register(BulkJob)
class BulkJobAdmin(admin.ModelAdmin):
    list_display = ("id", "status", "progress", "total", "sent", "failed", "unsettled", "created_at",
                    "finished_at", "callback_status")
    list_filter = ("status",)
    search_fields = ("=id", "callback_url")
    date_hierarchy = "created_at"
    inlines = [BulkItemInline]
    actions = ["cancel_jobs"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(
            n_sent=_count(BulkItemStatus.SENT), n_failed=_count(BulkItemStatus.FAILED),
            n_unsettled=Count("items", filter=Q(items__status__in=[BulkItemStatus.PENDING, BulkItemStatus.SENDING,
                                                                     BulkItemStatus.UNKNOWN])))

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in BulkJob._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description="sent", ordering="n_sent")
    def sent(self, obj) -> int:
        return obj.n_sent

    @admin.display(description="failed", ordering="n_failed")
    def failed(self, obj) -> int:
        return obj.n_failed

    @admin.display(description="pending", ordering="n_unsettled")
    def unsettled(self, obj) -> int:
        return obj.n_unsettled

    @admin.display(description="progress")
    def progress(self, obj) -> str:
        done = obj.total - obj.n_unsettled
        return format_html('<progress value="{}" max="{}"></progress> {}/{}', done, obj.total or 1, done, obj.total)

    def has_cancel_permission(self, request) -> bool:
        return request.user.has_perm(CANCEL_PERMISSION)

    @admin.action(description="Cancel the rest of the selected jobs", permissions=["cancel"])
    def cancel_jobs(self, request, queryset):
        cancelled = 0
        for job in queryset:
            try:
                bulk_job_cancel(job_id=job.id)
                cancelled += 1
            except GatewayError as exc:
                self.message_user(request, exc.message, messages.WARNING)
        self.message_user(request, f"Cancelled {cancelled} job(s); their pending items will not be sent.")
