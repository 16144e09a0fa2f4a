"""Response serializers of the messenger API: the shapes it answers with, for the OpenAPI schema and Swagger UI.

The error envelope and `errors()` are every app's: core/api/responses.py.

Avito's own objects (chats, messages) are passed through as Avito sent them; their
schemas list the documented fields and allow the rest, since Avito adds fields freely.
"""
from __future__ import annotations

from rest_framework import serializers


class AvitoChat(serializers.Serializer):
    id = serializers.CharField()
    created = serializers.IntegerField(required=False)
    updated = serializers.IntegerField(required=False)
    context = serializers.JSONField(required=False)
    users = serializers.JSONField(required=False)
    last_message = serializers.JSONField(required=False, allow_null=True)


class AvitoMessage(serializers.Serializer):
    id = serializers.CharField()
    author_id = serializers.IntegerField(required=False, allow_null=True)
    created = serializers.IntegerField(required=False)
    direction = serializers.CharField(required=False)
    type = serializers.CharField(required=False)
    content = serializers.JSONField(required=False)
    is_read = serializers.BooleanField(required=False)
    read = serializers.IntegerField(required=False, allow_null=True)


class PageMeta(serializers.Serializer):
    has_more = serializers.BooleanField()


class ChatsPage(serializers.Serializer):
    chats = AvitoChat(many=True)
    meta = PageMeta()


class ChatSearchAnswer(serializers.Serializer):
    chats = AvitoChat(many=True)
    truncated = serializers.BooleanField(help_text="true when Avito had more chats past its offset cap of 1000")


class UnreadCountAnswer(serializers.Serializer):
    unread_count = serializers.IntegerField()
    truncated = serializers.BooleanField(help_text="true when Avito had more unread chats past its offset cap")


class MessagesPage(serializers.Serializer):
    messages = AvitoMessage(many=True)
    meta = PageMeta()


class OkAnswer(serializers.Serializer):
    ok = serializers.BooleanField()


class SendAnswer(OkAnswer):
    chat_id = serializers.CharField()
    message_id = serializers.CharField(allow_null=True)
    message = AvitoMessage()


class SendImageAnswer(SendAnswer):
    image_id = serializers.CharField()


class NormalizedMedia(serializers.Serializer):
    has_voice = serializers.BooleanField()
    voice_url = serializers.CharField(allow_null=True)
    has_images = serializers.BooleanField()
    images = serializers.ListField(child=serializers.DictField())
    has_video = serializers.BooleanField()
    has_document = serializers.BooleanField()


class NormalizedMeta(serializers.Serializer):
    external_message_id = serializers.CharField()
    ad_id = serializers.IntegerField(allow_null=True)
    original_media_type = serializers.CharField(help_text="Avito's message type")
    chat_type = serializers.CharField(allow_null=True)
    direction = serializers.ChoiceField(choices=["in", "out"])
    source = serializers.ChoiceField(choices=["webhook", "poll"],
                                     help_text="webhook: Avito's notification; poll: read from Avito's lists "
                                               "(reconciliation found it, or this endpoint read it)")
    media_error = serializers.CharField(required=False, help_text="only when a media id (voice_id) is not one "
                                        "Avito makes: that media is left unresolved, the message is delivered")


class NormalizedMessage(serializers.Serializer):
    event = serializers.ChoiceField(choices=["message"], help_text='always "message": tells a message from the '
                                    'other signed bodies the gateway sends (a bulk callback is "bulk_job.finished")')
    channel = serializers.CharField()
    event_id = serializers.CharField()
    external_user_id = serializers.CharField(allow_null=True)
    external_chat_id = serializers.CharField()
    text = serializers.CharField(allow_blank=True)
    timestamp = serializers.CharField(allow_null=True)
    client_name = serializers.CharField(allow_null=True)
    media = NormalizedMedia()
    meta = NormalizedMeta()


class UnreadMessagesAnswer(serializers.Serializer):
    count = serializers.IntegerField()
    messages = NormalizedMessage(many=True)
    truncated = serializers.BooleanField(help_text="true when unread chats past Avito's offset cap were not read")


class TokenAnswer(serializers.Serializer):
    access_token = serializers.CharField()
    token_type = serializers.CharField()
    expires_in = serializers.IntegerField(help_text="seconds left")
    expires_at = serializers.DateTimeField()


class WebhookUrlAnswer(OkAnswer):
    url = serializers.CharField()


class Subscription(serializers.Serializer):
    url = serializers.CharField()
    version = serializers.CharField()


class SubscriptionsAnswer(serializers.Serializer):
    subscriptions = Subscription(many=True)
