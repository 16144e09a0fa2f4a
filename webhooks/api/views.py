"""`/api/deliveries`: what was delivered to n8n, what is waiting, what failed, and replay."""
from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from webhooks.api.serializers import (DeliveryDetailSerializer, DeliveryListQuery, DeliveryListResponse,
                                      DeliveryReplayResponse, DeliverySerializer)
from webhooks.delivery import delivery_replay
from webhooks.selectors import delivery_get, delivery_list

ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="the delivery's id")
LIST_EXAMPLE = OpenApiExample("a failed delivery", value={
    "deliveries": [{"id": 7, "event_id": "avito-msg-4f8d8b0c", "status": "failed", "attempts": 12,
                    "max_attempts": 12, "next_attempt_at": "2025-12-01T18:30:00Z",
                    "last_attempt_at": "2025-12-01T18:30:00Z", "last_status_code": 500,
                    "last_error": "n8n answered HTTP 500.", "created_at": "2025-12-01T17:30:00Z",
                    "delivered_at": None, "message_id": "4f8d8b0c", "chat_id": "u2i-abc123"}],
    "meta": {"total": 1, "has_more": False}}, response_only=True)


class DeliveryViewSet(viewsets.ViewSet):
    lookup_value_regex = "[0-9]+"

    @extend_schema(operation_id="deliveries_list", parameters=[DeliveryListQuery],
                   responses=DeliveryListResponse, examples=[LIST_EXAMPLE], tags=["deliveries"],
                   summary="Deliveries to n8n, newest first, optionally of one status")
    def list(self, request: Request) -> Response:
        query = DeliveryListQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        rows, total = delivery_list(**query.validated_data)
        offset = query.validated_data["offset"]
        return Response({"deliveries": DeliverySerializer(rows, many=True).data,
                         "meta": {"total": total, "has_more": offset + len(rows) < total}})

    @extend_schema(operation_id="deliveries_retrieve", parameters=[ID], responses=DeliveryDetailSerializer,
                   tags=["deliveries"], summary="One delivery, with the payload posted to n8n")
    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(DeliveryDetailSerializer(delivery_get(delivery_pk=int(pk))).data)

    @extend_schema(operation_id="deliveries_replay", parameters=[ID], request=None,
                   responses=DeliveryReplayResponse, tags=["deliveries"],
                   summary="Queue a delivery again (any status but one being posted), with all its attempts")
    @action(detail=True, methods=["post"])
    def replay(self, request: Request, pk: str) -> Response:
        delivery = delivery_replay(delivery_pk=int(pk))
        return Response({"ok": True, "delivery": DeliveryDetailSerializer(delivery).data})
