"""What the bulk API accepts and answers.

Each item is judged by the same request serializer as its single-send endpoint
(`SendTextRequest`, `SendLinkRequest`, `SendImageJsonRequest`), chosen by its keys: an
`image_url` or `image_id` makes it an image, a `url` a link, anything else text. Every item
is checked before anything is stored, and the errors are keyed by the item's index.
"""
from __future__ import annotations

from drf_spectacular.utils import PolymorphicProxySerializer
from rest_framework import serializers

from core.api.fields import HttpUrlField, StrictSerializer
from messenger.api.serializers import SendImageJsonRequest, SendLinkRequest, SendTextRequest

MAX_ITEMS = 1000
ITEM_SERIALIZERS = {"text": SendTextRequest, "link": SendLinkRequest, "image": SendImageJsonRequest}


def item_kind(raw: dict) -> str:
    if "image_url" in raw or "image_id" in raw:
        return "image"
    return "link" if "url" in raw else "text"


def item_validated(raw) -> dict:
    """One item as stored: `{"kind", "chat_id", "payload"}`; ValidationError naming its bad fields."""
    if not isinstance(raw, dict):
        raise serializers.ValidationError({"non_field_errors": ["Must be an object."]})
    kind = item_kind(raw)
    serializer = ITEM_SERIALIZERS[kind](data=raw)
    if not serializer.is_valid():
        raise serializers.ValidationError(serializer.errors)
    payload = {key: value for key, value in serializer.validated_data.items() if key != "chat_id" and value}
    return {"kind": kind, "chat_id": serializer.validated_data["chat_id"], "payload": payload}


class BulkItemsField(serializers.ListField):
    """The list of items; errors come back as `{"<index>": {<field>: [...]}}` for the bad ones only."""

    def __init__(self, **kwargs):
        # The child only describes an item in the OpenAPI schema; items are judged by `item_validated`.
        child = PolymorphicProxySerializer(component_name="BulkItemRequest", resource_type_field_name=None,
                                           serializers=list(ITEM_SERIALIZERS.values()))
        super().__init__(child=child, min_length=1, max_length=MAX_ITEMS, **kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, list):
            self.fail("not_a_list", input_type=type(data).__name__)
        if len(data) > MAX_ITEMS:  # before judging 100 000 items one by one
            raise serializers.ValidationError(f"At most {MAX_ITEMS} items per job; this has {len(data)}.")
        items, errors = [], {}
        for index, raw in enumerate(data):
            try:
                items.append(item_validated(raw))
            except serializers.ValidationError as exc:
                errors[str(index)] = exc.detail
        if errors:
            raise serializers.ValidationError(errors)
        return items


class BulkSendRequest(StrictSerializer):
    messages = BulkItemsField(help_text=f"1 to {MAX_ITEMS} items, each like the body of a single send")
    callback_url = HttpUrlField(required=False, allow_blank=True,
                                help_text="gets one signed POST with the job's summary when the job ends")


class BulkJobAccepted(serializers.Serializer):
    job_id = serializers.UUIDField()
    status = serializers.CharField(help_text="queued")
    total = serializers.IntegerField()
    status_url = serializers.URLField(help_text="GET it for progress")


class BulkItemProgress(serializers.Serializer):
    index = serializers.IntegerField(help_text="the item's position in the request, from 0")
    chat_id = serializers.CharField()
    status = serializers.ChoiceField(["pending", "sending", "unknown", "sent", "failed", "cancelled"],
                                     help_text="unknown: the send reached Avito but is not confirmed yet; it is "
                                               "looked for in the chat, never sent again, and becomes sent or failed")
    message_id = serializers.CharField(allow_null=True, help_text="Avito's id once sent")
    error = serializers.CharField(allow_null=True, help_text="why it failed, or the last error before a retry")


class BulkJobProgress(serializers.Serializer):
    job_id = serializers.UUIDField()
    status = serializers.ChoiceField(["queued", "running", "completed", "cancelled"])
    total = serializers.IntegerField()
    sent = serializers.IntegerField()
    failed = serializers.IntegerField()
    pending = serializers.IntegerField(help_text="not settled yet (waiting, being sent, or unknown)")
    unknown = serializers.IntegerField(help_text="of `pending`, those whose send awaits confirmation in the chat")
    cancelled = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    items = BulkItemProgress(many=True)
