"""Request serializers: what each endpoint accepts, checked against Avito's limits before Avito is called.

`SendTextRequest`, `SendLinkRequest` and `SendImageJsonRequest` also validate each item of
a bulk job, so one send is judged the same way wherever it comes from.
"""
from __future__ import annotations

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from core.api.fields import HttpUrlField, StrictCharField, StrictSerializer
from core.errors import InvalidInput
from messenger.api.avito_fields import AvitoIdField, ChatTypesField, ItemIdsField
from messenger.avito.ids import INT64_MAX
from messenger.services import limits
from messenger.services.messages import link_message_text


def _exactly_one(attrs: dict, names: tuple[str, ...]) -> None:
    given = [name for name in names if attrs.get(name)]
    if len(given) != 1:
        raise serializers.ValidationError(
            {"non_field_errors": [f"Give exactly one of {', '.join(names)} (got {', '.join(given) or 'none'})."]}
        )


# --- sends ------------------------------------------------------------------------------------
@extend_schema_serializer(component_name="SendText")  # shown as SendTextRequest
class SendTextRequest(StrictSerializer):
    chat_id = AvitoIdField(help_text="Avito chat id, e.g. u2i-y9ykWR1EkNOJJMaE9i9m8w")
    text = StrictCharField(max_length=limits.MAX_TEXT_LENGTH, trim_whitespace=False,
                           help_text=f"at most {limits.MAX_TEXT_LENGTH} characters")

    def validate_text(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError("Must not be blank.")
        return value


@extend_schema_serializer(component_name="SendLink")  # shown as SendLinkRequest
class SendLinkRequest(StrictSerializer):
    chat_id = AvitoIdField()
    url = HttpUrlField(max_length=limits.MAX_TEXT_LENGTH, help_text="http:// or https:// only")
    text = StrictCharField(required=False, allow_blank=True, allow_null=True,
                           max_length=limits.MAX_TEXT_LENGTH, help_text="shown above the URL")

    def validate(self, attrs):
        attrs = super().validate(attrs)
        try:
            link_message_text(url=attrs["url"], text=attrs.get("text"))
        except InvalidInput as exc:
            raise serializers.ValidationError(exc.details) from None
        return attrs


@extend_schema_serializer(component_name="SendImageJson")  # shown as SendImageJsonRequest
class SendImageJsonRequest(StrictSerializer):
    chat_id = AvitoIdField()
    image_id = AvitoIdField(required=False, help_text="an id from Avito's uploadImages")
    image_url = HttpUrlField(required=False, help_text="a public JPEG/PNG/GIF/BMP/HEIC image, at most 24 MB")

    def validate(self, attrs):
        attrs = super().validate(attrs)
        _exactly_one(attrs, ("image_id", "image_url"))
        return attrs


@extend_schema_serializer(component_name="SendImageUpload")  # shown as SendImageUploadRequest
class SendImageUploadRequest(SendImageJsonRequest):
    """The multipart form: `chat_id` and a `file` (or, as in JSON, `image_id` / `image_url`)."""

    file = serializers.FileField(required=False, allow_empty_file=False,
                                 help_text="one JPEG/PNG/GIF/BMP/HEIC image, at most 24 MB")

    def validate(self, attrs):
        attrs = StrictSerializer.validate(self, attrs)
        _exactly_one(attrs, ("file", "image_id", "image_url"))
        upload = attrs.get("file")
        if upload is not None and upload.size > limits.MAX_IMAGE_BYTES:
            raise serializers.ValidationError({"file": [f"At most {limits.MAX_IMAGE_BYTES} bytes (Avito's limit)."]})
        return attrs


# --- other writes -----------------------------------------------------------------------------
@extend_schema_serializer(component_name="Blacklist")  # shown as BlacklistRequest
class BlacklistRequest(StrictSerializer):
    user_id = serializers.IntegerField(min_value=1, max_value=INT64_MAX, help_text="the user to block")
    item_id = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=INT64_MAX)
    reason_id = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=4,
                                         help_text="1 spam, 2 fraud, 3 insults, 4 other")


@extend_schema_serializer(component_name="WebhookUrl")  # shown as WebhookUrlRequest
class WebhookUrlRequest(StrictSerializer):
    url = HttpUrlField(required=False, allow_null=True,
                       help_text="default: PUBLIC_BASE_URL + /webhook/avito[/<AVITO_WEBHOOK_SECRET>]")


# --- query parameters -------------------------------------------------------------------------
class PageQuery(serializers.Serializer):
    limit = serializers.IntegerField(required=False, default=limits.LIMIT_MAX, min_value=limits.LIMIT_MIN,
                                     max_value=limits.LIMIT_MAX, help_text="1..100 (Avito's limit)")
    offset = serializers.IntegerField(required=False, default=0, min_value=0, max_value=limits.OFFSET_MAX,
                                      help_text="0..1000 (Avito's cap: nothing past it is reachable)")


class ChatListQuery(PageQuery):
    unread_only = serializers.BooleanField(required=False, default=False)
    item_ids = ItemIdsField(child=serializers.IntegerField(min_value=1, max_value=INT64_MAX),
                              required=False, default=list, help_text="comma-separated item ids")
    chat_types = ChatTypesField(child=serializers.ChoiceField(choices=limits.CHAT_TYPES), required=False,
                                default=lambda: list(limits.DEFAULT_CHAT_TYPES),
                                help_text="comma-separated among u2i,u2u,a2u; default u2i,u2u")

    def validate_chat_types(self, value):
        if not value:
            raise serializers.ValidationError("Name at least one of u2i, u2u, a2u.")
        return value


class ChatSearchQuery(serializers.Serializer):
    item_id = serializers.IntegerField(min_value=1, max_value=INT64_MAX, help_text="the Avito item id")


class UnreadAllQuery(serializers.Serializer):
    mark_read = serializers.BooleanField(required=False, default=False,
                                         help_text="mark the chats read after collecting their messages")
