"""Reads of stored rows and shared counters (no Avito calls, no writes): what the gateway already knows."""
from __future__ import annotations

from datetime import datetime

from messenger.avito import get_client
from messenger.models import Chat, IdempotencyRecord, Message


def chat_stored_client(*, chat_id: str) -> tuple[int | None, str]:
    """The other party of a chat as last stored: (user id, name), or (None, "") if unknown."""
    row = Chat.objects.filter(id=chat_id).values("client_user_id", "client_name").first()
    return (row["client_user_id"], row["client_name"]) if row else (None, "")


def chat_message_stored_before(*, chat_id: str, before: datetime) -> datetime | None:
    """When the chat's newest stored message written before `before` was written; None if none is stored."""
    return (Message.objects.filter(chat_id=chat_id, created__lt=before).order_by("-created")
            .values_list("created", flat=True).first())


def idempotency_record_get(*, scope: str, key: str) -> IdempotencyRecord | None:
    return IdempotencyRecord.objects.filter(scope=scope, key=key).first()


def chat_unread_stored_count() -> int:
    """Chats stored as unread (what the admin's unread filter lists)."""
    return Chat.objects.filter(is_unread=True).count()


def avito_calls_in_window() -> tuple[int, int, float]:
    """(calls in the current window, RATE_LIMIT_REQUESTS, RATE_LIMIT_WINDOW), read without taking a slot."""
    limiter = get_client().transport.rate_limiter
    return limiter.used(), limiter.limit, limiter.window
