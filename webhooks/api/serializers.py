"""What the deliveries API reads and answers, named for what each carries."""
from __future__ import annotations

import json

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from webhooks.models import Delivery, DeliveryStatus


class DeliveryListQuery(serializers.Serializer):
    status = serializers.ChoiceField(choices=DeliveryStatus.values, required=False,
                                     help_text="only deliveries in this status")
    limit = serializers.IntegerField(min_value=1, max_value=500, default=50)
    offset = serializers.IntegerField(min_value=0, max_value=10**9, default=0)


class DeliverySerializer(serializers.ModelSerializer):
    message_id = serializers.CharField(source="incoming_event.message_id", default=None, allow_null=True,
                                       help_text="Avito's message id")
    chat_id = serializers.CharField(source="incoming_event.chat_id", default=None, allow_null=True)
    max_attempts = serializers.SerializerMethodField()

    class Meta:
        model = Delivery
        fields = ["id", "event_id", "status", "attempts", "max_attempts", "next_attempt_at", "last_attempt_at",
                  "last_status_code", "last_error", "created_at", "delivered_at", "message_id", "chat_id"]

    def get_max_attempts(self, obj: Delivery) -> int:
        return settings.N8N_FORWARD_MAX_ATTEMPTS


class DeliveryDetailSerializer(DeliverySerializer):
    payload = serializers.SerializerMethodField(help_text="the normalized message exactly as posted to n8n")

    class Meta(DeliverySerializer.Meta):
        fields = [*DeliverySerializer.Meta.fields, "payload"]

    @extend_schema_field({"type": "object", "additionalProperties": True})
    def get_payload(self, obj: Delivery) -> dict:
        return json.loads(obj.body)


class DeliveryPageMeta(serializers.Serializer):
    total = serializers.IntegerField()
    has_more = serializers.BooleanField()


class DeliveryListResponse(serializers.Serializer):
    deliveries = DeliverySerializer(many=True)
    meta = DeliveryPageMeta()


class DeliveryReplayResponse(serializers.Serializer):
    ok = serializers.BooleanField()
    delivery = DeliveryDetailSerializer()
