"""MessageViewSet: a chat's history, sends (text, link, image), delete, and every unread message."""
from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import viewsets
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from messenger.api.chats import CHAT_ID
from messenger.api.common import IDEMPOTENCY_PARAMETER, idempotent_response
from core.api.validation import validated
from messenger.api.responses import MessagesPage, OkAnswer, SendAnswer, SendImageAnswer, UnreadMessagesAnswer
from core.api.responses import errors
from messenger.api.serializers import (
    PageQuery, SendImageJsonRequest, SendImageUploadRequest, SendLinkRequest, SendTextRequest, UnreadAllQuery,
)
from messenger.services.messages import (
    message_delete, message_list, message_send_check, message_send_image, message_send_link, message_send_text,
)
from messenger.services.unread import unread_messages_collect

MESSAGE_ID = OpenApiParameter("message_id", str, OpenApiParameter.PATH, description="Avito message id")
SEND_ERRORS = errors(400, 401, 404, 409, 413, 415, 429, 502, 503, 504)
CHAT = "u2i-y9ykWR1EkNOJJMaE9i9m8w"
# The normalized shape, as deliveries to n8n carry it (contract §4; docs/n8n.md).
UNREAD_EXAMPLE = OpenApiExample("one unread message", response_only=True, value={
    "count": 1, "truncated": False, "messages": [{
        "event": "message", "channel": "avito", "event_id": "avito-msg-4f8d8b0c1e2a4b6c8d0e1f2a3b4c5d6e", "external_user_id": "94235311",
        "external_chat_id": CHAT, "text": "Здравствуйте, ещё продаёте?", "timestamp": "2025-12-01T17:30:00+00:00",
        "client_name": "Guldan",
        "media": {"has_voice": False, "voice_url": None, "has_images": False, "images": [], "has_video": False,
                  "has_document": False},
        "meta": {"external_message_id": "4f8d8b0c1e2a4b6c8d0e1f2a3b4c5d6e", "ad_id": 1768287444,
                 "original_media_type": "text", "chat_type": "u2i", "direction": "in", "source": "poll"}}]})


def _example(name: str, value: dict) -> OpenApiExample:
    return OpenApiExample(name, value=value, request_only=True)


class MessageViewSet(viewsets.ViewSet):
    def get_parsers(self):
        """JSON everywhere; the image send also takes a file as multipart/form-data."""
        action = getattr(self, "action", None)  # set when the schema is generated
        if action is None and getattr(self, "request", None) is not None:
            action = getattr(self, "action_map", {}).get(self.request.method.lower())
        if action == "send_image":
            return [*super().get_parsers(), MultiPartParser()]
        return super().get_parsers()

    @extend_schema(
        operation_id="messages_list", tags=["messages"], summary="A chat's messages (one page, newest first)",
        parameters=[CHAT_ID, PageQuery], responses={200: MessagesPage, **errors(400, 401, 404, 429, 502, 504)},
    )
    def list_messages(self, request, chat_id: str):
        return Response(message_list(chat_id=chat_id, **validated(PageQuery, request.query_params)))

    @extend_schema(
        operation_id="messages_delete", tags=["messages"], summary="Delete a sent message",
        description="Avito allows it within an hour of sending; the message stays in history as `deleted`.",
        parameters=[CHAT_ID, MESSAGE_ID], responses={200: OkAnswer, **errors(400, 401, 404, 429, 502, 504)},
    )
    def destroy(self, request, chat_id: str, message_id: str):
        return Response(message_delete(chat_id=chat_id, message_id=message_id))

    @extend_schema(
        operation_id="messages_send_text", tags=["messages"], summary="Send a text message",
        request=SendTextRequest, parameters=[IDEMPOTENCY_PARAMETER],
        responses={200: SendAnswer, **SEND_ERRORS},
        examples=[_example("text", {"chat_id": CHAT, "text": "Здравствуйте! Да, актуально."})],
    )
    def send_text(self, request):
        data = validated(SendTextRequest, request.data)
        return idempotent_response(request, lambda: message_send_text(**data), check=message_send_check(**data))

    @extend_schema(
        operation_id="messages_send_link", tags=["messages"], summary="Send a link",
        description="Avito has no link messages: this sends one text holding the text, a line break and "
                    "the URL (together at most 1000 characters). Only http:// and https:// URLs.",
        request=SendLinkRequest, parameters=[IDEMPOTENCY_PARAMETER], responses={200: SendAnswer, **SEND_ERRORS},
        examples=[_example("link", {"chat_id": CHAT, "url": "https://example.com/catalog", "text": "Каталог:"})],
    )
    def send_link(self, request):
        data = validated(SendLinkRequest, request.data)
        return idempotent_response(request, lambda: message_send_link(**data), check=message_send_check(**data))

    @extend_schema(
        operation_id="messages_send_image", tags=["messages"], summary="Send an image",
        description="Give exactly one of `image_url` (fetched by the gateway: public http(s) address, "
                    "JPEG/PNG/GIF/BMP/HEIC, at most 24 MB), `image_id` (from Avito's uploadImages) or, as "
                    "multipart/form-data, a `file`. The image is uploaded to Avito first when needed.",
        request={"application/json": SendImageJsonRequest, "multipart/form-data": SendImageUploadRequest},
        parameters=[IDEMPOTENCY_PARAMETER], responses={200: SendImageAnswer, **SEND_ERRORS},
        examples=[
            _example("image_url", {"chat_id": CHAT, "image_url": "https://example.com/photo.jpg"}),
            _example("image_id", {"chat_id": CHAT, "image_id": "12345.12345abcdefghijklm"}),
        ],
    )
    def send_image(self, request):
        if request.content_type.startswith("multipart/"):
            data = validated(SendImageUploadRequest, request.data)
        else:
            data = validated(SendImageJsonRequest, request.data)
        upload, files = data.pop("file", None), None
        if upload is not None:
            content = upload.read()
            files = {"file": content}
            data["upload"] = (content, upload.name or "image", upload.content_type or "")
        return idempotent_response(request, lambda: message_send_image(**data), files=files,
                                   check=message_send_check(chat_id=data["chat_id"], kind="image"))

    @extend_schema(
        operation_id="messages_unread_all", tags=["messages"], summary="Every unread incoming message",
        description="Every unread incoming message of every unread u2i/u2u chat, oldest first, in the shape "
                    "deliveries to n8n have. `mark_read=true` marks those chats read afterwards. Chats past "
                    "Avito's offset cap (1100 unread chats) are not reached: `truncated: true`.",
        parameters=[UnreadAllQuery], responses={200: UnreadMessagesAnswer, **errors(400, 401, 429, 502, 504)},
        examples=[UNREAD_EXAMPLE],
    )
    def unread_all(self, request):
        return Response(unread_messages_collect(**validated(UnreadAllQuery, request.query_params)))
