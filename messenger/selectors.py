"""Reads of stored rows (no Avito calls, no writes): what the gateway already knows."""
from __future__ import annotations

from messenger.models import Chat, IdempotencyRecord


def chat_stored_client(*, chat_id: str) -> tuple[int | None, str]:
    """The other party of a chat as last stored: (user id, name), or (None, "") if unknown."""
    row = Chat.objects.filter(id=chat_id).values("client_user_id", "client_name").first()
    return (row["client_user_id"], row["client_name"]) if row else (None, "")


def idempotency_record_get(*, scope: str, key: str) -> IdempotencyRecord | None:
    return IdempotencyRecord.objects.filter(scope=scope, key=key).first()
