"""Reads of the webhooks app: deliveries for the API and the admin, the latest notification."""
from __future__ import annotations

from django.db.models import QuerySet, Subquery

from core.errors import NotFound
from webhooks.models import Delivery, IncomingEvent


def delivery_list(*, status: str | None = None, limit: int = 50, offset: int = 0) -> tuple[list[Delivery], int]:
    """Newest first: one page of deliveries (with their event) and how many match in all."""
    rows: QuerySet[Delivery] = Delivery.objects.select_related("incoming_event").order_by("-created_at", "-pk")
    if status:
        rows = rows.filter(status=status)
    return list(rows[offset:offset + limit]), rows.count()


def delivery_get(*, delivery_pk: int) -> Delivery:
    delivery = Delivery.objects.select_related("incoming_event").filter(pk=delivery_pk).first()
    if delivery is None:
        raise NotFound(f"No delivery with id {delivery_pk}.")
    return delivery


def delivery_count(*, status: str) -> int:
    return Delivery.objects.filter(status=status).count()


def deliveries_by_message(*, message_ids: list[str]) -> dict[str, Delivery]:
    """Each message's delivery to n8n (only messages that have one), keyed by Avito message id."""
    rows = Delivery.objects.filter(incoming_event__message_id__in=message_ids).select_related("incoming_event")
    return {row.incoming_event.message_id: row for row in rows.only(
        "pk", "status", "attempts", "last_error", "delivered_at", "incoming_event__message_id")}


def incoming_event_latest() -> IncomingEvent | None:
    """The last notification Avito sent (by the time it arrived)."""
    return IncomingEvent.objects.only("pk", "received_at", "event_type", "chat_id").order_by("-received_at").first()


def delivery_status_of(message_id) -> Subquery:
    """A subquery of the status of a message's delivery (`message_id` may be an OuterRef)."""
    return Subquery(Delivery.objects.filter(incoming_event__message_id=message_id).values("status")[:1])

def message_ids_stored(message_ids: list[str]) -> set[str]:
    """Which of these Avito message ids have an incoming event already (by notification or poll)."""
    if not message_ids:
        return set()
    return set(IncomingEvent.objects.filter(message_id__in=message_ids).values_list("message_id", flat=True))
