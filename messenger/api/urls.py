"""Routes of the messenger REST API, written out in order.

Fixed paths (`/api/chats/unread/count`, `/api/chats/search`) come before the chat-id path,
and ids match only characters an Avito id can hold, so neither is taken for a chat id.
"""
from django.urls import path, register_converter

from messenger.api.blacklist import BlacklistViewSet
from messenger.api.chats import ChatViewSet
from messenger.api.messages import MessageViewSet
from messenger.api.subscriptions import WebhookSubscriptionViewSet
from messenger.api.token import TokenViewSet


class AvitoIdConverter:
    regex = r"[A-Za-z0-9_~-][A-Za-z0-9_.~-]{0,127}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(AvitoIdConverter, "avito_id")

chats, messages = ChatViewSet.as_view, MessageViewSet.as_view
webhook = WebhookSubscriptionViewSet.as_view

urlpatterns = [
    path("api/token", TokenViewSet.as_view({"get": "retrieve"}), name="token"),
    path("api/token/refresh", TokenViewSet.as_view({"post": "refresh"}), name="token-refresh"),
    path("api/chats", chats({"get": "list_chats"}), name="chat-list"),
    path("api/chats/unread/count", chats({"get": "unread_count"}), name="chat-unread-count"),
    path("api/chats/search", chats({"get": "search"}), name="chat-search"),
    path("api/chats/<avito_id:chat_id>", chats({"get": "retrieve"}), name="chat-detail"),
    path("api/chats/<avito_id:chat_id>/read", chats({"post": "read"}), name="chat-read"),
    path("api/chats/<avito_id:chat_id>/messages", messages({"get": "list_messages"}), name="message-list"),
    path("api/chats/<avito_id:chat_id>/messages/<avito_id:message_id>", messages({"delete": "destroy"}),
         name="message-detail"),
    path("api/messages/send", messages({"post": "send_text"}), name="message-send"),
    path("api/messages/send/image", messages({"post": "send_image"}), name="message-send-image"),
    path("api/messages/send/link", messages({"post": "send_link"}), name="message-send-link"),
    path("api/messages/unread/all", messages({"get": "unread_all"}), name="message-unread-all"),
    path("api/webhook/subscribe", webhook({"post": "subscribe"}), name="webhook-subscribe"),
    path("api/webhook/unsubscribe", webhook({"post": "unsubscribe"}), name="webhook-unsubscribe"),
    path("api/webhook/subscriptions", webhook({"get": "subscriptions"}), name="webhook-subscriptions"),
    path("api/blacklist", BlacklistViewSet.as_view({"post": "create"}), name="blacklist"),
]
