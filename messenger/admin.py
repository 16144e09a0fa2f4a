"""Admin pages where staff read every chat and message that passed through the gateway.

Everything here is Avito's data or the gateway's record of it: nothing can be added or
edited (it would never reach Avito), and only a superuser deletes local rows. Chats are the
staff inbox (messenger.inbox); messages are listed with their n8n delivery status.
"""
from django.contrib import admin
from django.db.models import OuterRef

from avitogw.admin_site import ReadOnlyAdmin
from messenger.inbox.chat_admin import ChatAdmin
from messenger.inbox.shorten import shorten
from messenger.models import BlacklistEntry, Chat, IdempotencyRecord, Message
from webhooks.selectors import delivery_status_of


admin.site.register(Chat, ChatAdmin)


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = ("short_text", "direction", "type", "chat", "created", "delivery_status", "is_read")
    list_filter = ("direction", "type", "is_read")
    search_fields = ("text", "=id", "=chat__id")
    list_select_related = ("chat",)
    date_hierarchy = "created"
    exclude = ("raw",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(delivery=delivery_status_of(OuterRef("pk")))

    @admin.display(description="text")
    def short_text(self, obj: Message) -> str:
        return shorten(obj.text) or f"({obj.type})"

    @admin.display(description="delivery to n8n", ordering="delivery")
    def delivery_status(self, obj: Message) -> str:
        return obj.delivery or "—"


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

