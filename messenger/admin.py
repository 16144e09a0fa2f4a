"""Admin pages where staff read every chat and message that passed through the gateway."""
from django.contrib import admin

from messenger.models import BlacklistEntry, Chat, IdempotencyRecord, Message


class MessageInline(admin.TabularInline):
    model = Message
    fields = ("created", "direction", "type", "text")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("-created",)
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).only("id", "chat_id", "created", "direction", "type", "text")


@admin.register(Chat)
class ChatAdmin(admin.ModelAdmin):
    list_display = ("id", "chat_type", "client_name", "item_title", "item_id", "is_unread", "last_message_at")
    list_filter = ("chat_type", "is_unread")
    search_fields = ("id", "client_name", "item_title", "=item_id", "=client_user_id")
    readonly_fields = ("first_seen", "last_seen")
    date_hierarchy = "last_message_at"
    inlines = [MessageInline]


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ("id", "chat", "direction", "type", "short_text", "created", "is_read")
    list_filter = ("direction", "type", "is_read")
    search_fields = ("text", "=id", "=chat__id")
    list_select_related = ("chat",)
    raw_id_fields = ("chat",)
    date_hierarchy = "created"

    @admin.display(description="text")
    def short_text(self, obj: Message) -> str:
        return obj.text if len(obj.text) <= 80 else obj.text[:79] + "…"


@admin.register(BlacklistEntry)
class BlacklistEntryAdmin(admin.ModelAdmin):
    list_display = ("user_id", "item_id", "reason_id", "created_at")
    list_filter = ("reason_id",)
    search_fields = ("=user_id", "=item_id")


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(admin.ModelAdmin):
    """Read-only: staff can see which keys were used and what was answered, not forge answers."""

    list_display = ("key", "scope", "status_code", "created_at")
    list_filter = ("status_code",)
    search_fields = ("=key", "scope")
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


from messenger.bulk import admin as bulk_admin  # noqa: E402,F401 - registers BulkJob's admin pages
