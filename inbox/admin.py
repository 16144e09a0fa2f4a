"""The staff inbox's admin pages: chats (a chat's page is the conversation) and messages.

Registered on messenger's models, so their URLs stay /admin/messenger/chat/ and
/admin/messenger/message/. Read-only: the rows are Avito's data or the gateway's record of it
(an edit would never reach Avito); messages are listed with their n8n delivery status.
"""
from django.contrib import admin
from django.db.models import OuterRef

from core.admin import ReadOnlyAdmin
from inbox.chat_admin import ChatAdmin
from inbox.shorten import shorten
from messenger.models import Chat, Message
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
