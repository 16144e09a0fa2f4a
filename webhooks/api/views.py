"""`/api/deliveries`: what was delivered to n8n, what is waiting, what failed, and replay."""
from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from core.api.responses import ErrorEnvelope
from core.errors import NotFound
from messenger.avito.ids import INT64_MAX
from webhooks.api.serializers import (DeliveryDetailSerializer, DeliveryListQuery, DeliveryListResponse,
                                      DeliveryReplayResponse, DeliverySerializer)
from webhooks.delivery import delivery_replay
from webhooks.selectors import delivery_get, delivery_list

BAD_QUERY = OpenApiResponse(ErrorEnvelope, description="validation_error: an unknown status, a bad limit or offset")
NOT_FOUND = OpenApiResponse(ErrorEnvelope, description="not_found: no delivery with this id")
BUSY = OpenApiResponse(ErrorEnvelope, description="delivery_in_progress: it is being posted right now")
ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="the delivery's id")
LIST_EXAMPLE = OpenApiExample("a failed delivery", value={
    "deliveries": [{"id": 7, "event_id": "avito-msg-4f8d8b0c", "status": "failed", "attempts": 12,
                    "max_attempts": 12, "next_attempt_at": "2025-12-01T18:30:00Z",
                    "last_attempt_at": "2025-12-01T18:30:00Z", "last_status_code": 500,
                    "last_error": "n8n answered HTTP 500.", "created_at": "2025-12-01T17:30:00Z",
                    "delivered_at": None, "message_id": "4f8d8b0c", "chat_id": "u2i-abc123"}],
    "meta": {"total": 1, "has_more": False}}, response_only=True)

DETAIL_EXAMPLE = OpenApiExample("a message reconciliation found", response_only=True, value={
    "id": 8, "event_id": "avito-msg-5a1b", "status": "delivered", "attempts": 1, "max_attempts": 12,
    "next_attempt_at": "2025-12-01T17:31:01Z", "last_attempt_at": "2025-12-01T17:31:01Z", "last_status_code": 200,
    "last_error": "", "created_at": "2025-12-01T17:31:01Z", "delivered_at": "2025-12-01T17:31:01Z",
    "message_id": "5a1b", "chat_id": "u2i-abc123",
    "payload": {"event": "message", "channel": "avito", "event_id": "avito-msg-5a1b", "external_user_id": "12345678",
                "external_chat_id": "u2i-abc123", "text": "Ещё продаёте?", "timestamp": "2025-12-01T17:30:40+00:00",
                "client_name": "Guldan",
                "media": {"has_voice": False, "voice_url": None, "has_images": False, "images": [],
                          "has_video": False, "has_document": False},
                "meta": {"external_message_id": "5a1b", "ad_id": 456, "original_media_type": "text",
                         "chat_type": "u2i", "direction": "in", "source": "poll"}}})


def _delivery_pk(pk: int) -> int:
    """The id from the path; one no database column can hold is simply not there."""
    if pk > INT64_MAX:
        raise NotFound(f"No delivery with id {pk}.")
    return pk


class DeliveryViewSet(viewsets.ViewSet):
    @extend_schema(operation_id="deliveries_list", parameters=[DeliveryListQuery],
                   responses={200: DeliveryListResponse, 400: BAD_QUERY}, examples=[LIST_EXAMPLE], tags=["deliveries"],
                   summary="Deliveries to n8n, newest first, optionally of one status")
    def list_deliveries(self, request: Request) -> Response:
        query = DeliveryListQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        rows, total = delivery_list(**query.validated_data)
        offset = query.validated_data["offset"]
        return Response({"deliveries": DeliverySerializer(rows, many=True).data,
                         "meta": {"total": total, "has_more": offset + len(rows) < total}})

    @extend_schema(operation_id="deliveries_retrieve", parameters=[ID],
                   responses={200: DeliveryDetailSerializer, 404: NOT_FOUND}, examples=[DETAIL_EXAMPLE],
                   tags=["deliveries"], summary="One delivery, with the payload posted to n8n")
    def retrieve(self, request: Request, pk: int) -> Response:
        return Response(DeliveryDetailSerializer(delivery_get(delivery_pk=_delivery_pk(pk))).data)

    @extend_schema(operation_id="deliveries_replay", parameters=[ID], request=None,
                   responses={200: DeliveryReplayResponse, 404: NOT_FOUND, 409: BUSY}, tags=["deliveries"],
                   summary="Queue a delivery again (any status but one being posted), with all its attempts")
    def replay(self, request: Request, pk: int) -> Response:
        delivery = delivery_replay(delivery_pk=_delivery_pk(pk))
        return Response({"ok": True, "delivery": DeliveryDetailSerializer(delivery).data})
