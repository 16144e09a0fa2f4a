"""Admin pages of messenger's records: blocked users and the Idempotency-Key answers.

Both are the gateway's record of what happened: nothing can be added or edited, and only a
superuser deletes rows. Chats and messages are the staff inbox's pages (the `inbox` app:
they show each message's n8n delivery, which is the webhooks app's).
"""
from django.contrib import admin

from core.admin import ReadOnlyAdmin
from messenger.models import BlacklistEntry, IdempotencyRecord


@admin.register(BlacklistEntry)
class BlacklistEntryAdmin(ReadOnlyAdmin):
    """Blocking happens on a chat's page (it must reach Avito); this is the record of it."""

    list_display = ("user_id", "item_id", "reason_id", "created_at")
    list_filter = ("reason_id",)
    search_fields = ("=user_id", "=item_id")


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(ReadOnlyAdmin):
    """Staff can see which keys were used and what was answered, not forge answers."""

    list_display = ("key", "scope", "status_code", "created_at")
    list_filter = ("status_code",)
    search_fields = ("=key", "scope")
    date_hierarchy = "created_at"

