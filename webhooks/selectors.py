"""Reads of the webhooks app: deliveries for the API and the admin, and the incoming path."""
from __future__ import annotations

from django.conf import settings
from django.db.models import QuerySet

from avitogw.exception_handler import ApiError
from webhooks.models import Delivery, IncomingEvent


def incoming_webhook_path() -> str:
    """The path Avito must call: `/webhook/avito`, or `/webhook/avito/<secret>` when one is set."""
    secret = settings.AVITO_WEBHOOK_SECRET
    return f"/webhook/avito/{secret}" if secret else "/webhook/avito"


def delivery_list(*, status: str | None = None, limit: int = 50, offset: int = 0) -> tuple[list[Delivery], int]:
    """Newest first: one page of deliveries (with their event) and how many match in all."""
    rows: QuerySet[Delivery] = Delivery.objects.select_related("incoming_event").order_by("-created_at", "-pk")
    if status:
        rows = rows.filter(status=status)
    return list(rows[offset:offset + limit]), rows.count()


def delivery_get(*, delivery_pk: int) -> Delivery:
    delivery = Delivery.objects.select_related("incoming_event").filter(pk=delivery_pk).first()
    if delivery is None:
        raise ApiError(404, "not_found", f"No delivery with id {delivery_pk}.")
    return delivery


def message_ids_stored(message_ids: list[str]) -> set[str]:
    """Which of these Avito message ids have an incoming event already (by notification or poll)."""
    if not message_ids:
        return set()
    return set(IncomingEvent.objects.filter(message_id__in=message_ids).values_list("message_id", flat=True))
