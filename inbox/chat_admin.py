"""Chats in the admin: a list to find the unread ones, and each chat's page as its conversation.

Chats are Avito's data: nothing here adds or edits one (what would be saved never reaches
Avito), and only a superuser deletes the local copy. What staff do to a chat goes to Avito
through the services (chat_actions), under the URLs this admin adds.
"""
from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import F, OuterRef, Subquery
from django.urls import path
from django.contrib.admin.utils import unquote

from core.admin import ReadOnlyAdmin
from core.errors import refusal_text
from inbox import chat_actions
from inbox.chat_actions import BLOCK_PERMISSION, REFUSALS, REPLY_PERMISSION
from inbox.forms import BlockForm, ReplyForm
from inbox.image_view import image_view
from inbox.shorten import shorten
from inbox.thread import chat_links, chat_thread
from messenger.models import Chat, Message
from messenger.services.chats import chat_mark_read


class ReadStateFilter(admin.SimpleListFilter):
    title = "read state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("unread", "Unread"), ("read", "Read")]

    def queryset(self, request, queryset):
        if self.value() in ("unread", "read"):
            return queryset.filter(is_unread=self.value() == "unread")
        return queryset


class ChatAdmin(ReadOnlyAdmin):
    list_display = ("client", "item", "last_message", "last_message_at", "unread", "chat_type")
    list_filter = (ReadStateFilter, "chat_type")
    search_fields = ("id", "client_name", "item_title", "=item_id", "=client_user_id")
    date_hierarchy = "last_message_at"
    exclude = ("raw",)
    actions = ["mark_read"]
    change_form_template = "admin/messenger/chat/change_form.html"

    # --- Avito's data is read-only (ReadOnlyAdmin); staff with the permission may reply ----------
    def has_reply_permission(self, request) -> bool:
        return request.user.has_perm(REPLY_PERMISSION)

    # --- the list -----------------------------------------------------------------------------
    @admin.display(description="client", ordering="client_name")
    def client(self, chat: Chat) -> str:
        return chat.client_name or (f"user {chat.client_user_id}" if chat.client_user_id else "—")

    @admin.display(description="item", ordering="item_title")
    def item(self, chat: Chat) -> str:
        return shorten(chat.item_title, 50) or (str(chat.item_id) if chat.item_id else "—")

    def get_queryset(self, request):
        newest = Message.objects.filter(chat=OuterRef("pk")).order_by(F("created").desc(nulls_last=True))
        return super().get_queryset(request).annotate(last_type=Subquery(newest.values("type")[:1]))

    @admin.display(description="last message")
    def last_message(self, chat: Chat) -> str:
        """The text, or what the message was when it had none (a photo, a voice message)."""
        last_type = getattr(chat, "last_type", None)
        return shorten(chat.last_message_text, 60) or (f"({last_type})" if last_type else "—")

    @admin.display(description="unread", ordering="is_unread", boolean=True)
    def unread(self, chat: Chat) -> bool:
        return chat.is_unread

    @admin.action(description="Mark the selected chats read at Avito", permissions=["reply"])
    def mark_read(self, request, queryset) -> None:
        done = 0
        for chat in queryset:
            try:
                chat_mark_read(chat_id=chat.pk)
            except REFUSALS as exc:
                self.message_user(request, f"{chat.pk} not marked read: {refusal_text(exc)}", messages.ERROR)
                continue
            self.log_change(request, chat, "Marked read at Avito.")
            done += 1
        self.message_user(request, f"Marked {done} chat(s) read at Avito.", messages.SUCCESS)

    # --- the conversation -----------------------------------------------------------------------
    def get_urls(self):
        def view(function):
            return self.admin_site.admin_view(lambda request, *args, **kwargs: function(request, *args, model_admin=self, **kwargs))

        def own_checks(function):  # staff and permission checked by the view itself: 403, no login redirect
            return lambda request, *args, **kwargs: function(request, *args, model_admin=self, **kwargs)

        own = [
            path("<path:object_id>/image/<str:message_id>/", own_checks(image_view), name="messenger_chat_image"),
            path("<path:object_id>/reply/", view(chat_actions.reply_view), name="messenger_chat_reply"),
            path("<path:object_id>/mark-read/", view(chat_actions.mark_read_view), name="messenger_chat_mark_read"),
            path("<path:object_id>/block/", view(chat_actions.block_view), name="messenger_chat_block"),
            path("<path:object_id>/voice/<str:voice_id>/", view(chat_actions.voice_view),
                 name="messenger_chat_voice"),
        ]
        return own + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        chat = self.get_object(request, unquote(object_id))
        context = dict(extra_context or {})
        if chat is not None:
            thread, total = chat_thread(chat_id=chat.pk)
            context.update(
                chat=chat, thread=thread, thread_total=total, **chat_links(chat),
                can_reply=request.user.has_perm(REPLY_PERMISSION),
                can_block=request.user.has_perm(BLOCK_PERMISSION) and chat.client_user_id is not None,
                reply_form=ReplyForm.fresh(), block_form=BlockForm(),
            )
        return super().change_view(request, object_id, form_url, context)
