"""Upserts of what Avito shows us, keyed by Avito's ids, so the admin mirrors every chat and message.

Both the REST API (chats and messages it reads or sends) and the incoming webhook
(messages Avito notifies) store through these functions, so a row looks the same
whichever way it arrived.
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any, Mapping

from messenger.avito.ids import INT64_MAX, avito_id_valid
from messenger.models import Chat, ChatType, Message
from messenger.normalizer import message_direction, message_text, unix_time

logger = logging.getLogger(__name__)

# What a later copy of a message overwrites (stored_at is auto_now: set on every store).
MESSAGE_FIELDS = ["chat", "author_id", "direction", "type", "text", "content", "created", "is_read", "raw",
                  "stored_at"]


def _when(unix_seconds) -> datetime | None:
    return unix_time(unix_seconds) if unix_seconds else None


def _int64(value) -> int | None:
    """A number for a BIGINT column, or None (Avito's numbers are ids: anything else is unknown)."""
    if isinstance(value, bool) or not isinstance(value, int) or not -INT64_MAX <= value <= INT64_MAX:
        return None
    return value


def chat_type_of(chat_id: str) -> str:
    """u2i / u2u / a2u from the id's prefix; "" for any other id (the column holds 8 characters)."""
    prefix = chat_id.split("-", 1)[0] if "-" in chat_id else ""
    return prefix if prefix in ChatType.values else ""


def chat_client(chat: Mapping[str, Any], account_user_id: int) -> tuple[int | None, str]:
    """The other party of a chat object: (user id, name)."""
    for user in chat.get("users") or []:
        if str(user.get("id")) != str(account_user_id):
            return user.get("id"), user.get("name") or ""
    return None, ""


def chat_upsert(chat: Mapping[str, Any], *, account_user_id: int, unread: bool | None = None) -> Chat:
    """Store Avito's chat object (from v2 chats), returning the row."""
    chat_id = chat["id"]
    context = chat.get("context") or {}
    item = context.get("value") if context.get("type") == "item" else None
    client_id, client_name = chat_client(chat, account_user_id)
    last = chat.get("last_message") or {}
    fields: dict[str, Any] = {
        "chat_type": chat_type_of(chat_id),
        "item_id": _int64((item or {}).get("id")),
        "item_title": ((item or {}).get("title") or "")[:512],
        "client_user_id": _int64(client_id),
        "client_name": client_name[:255],
        "avito_created": _when(chat.get("created")),
        "avito_updated": _when(chat.get("updated")),
        "raw": dict(chat),
    }
    if last:
        fields["last_message_text"] = message_text(last.get("type") or "", last.get("content"))
        fields["last_message_at"] = _when(last.get("created"))
    if unread is not None:
        fields["is_unread"] = unread
    row, _ = Chat.objects.update_or_create(id=chat_id, defaults=fields)
    return row


def chat_stub(chat_id: str, **fields) -> Chat:
    """The chat row for an id we have not fetched yet (kept minimal until Avito tells us more)."""
    chat_type = chat_type_of(chat_id)
    row, created = Chat.objects.get_or_create(id=chat_id, defaults={"chat_type": chat_type, **fields})
    if not created and fields:
        Chat.objects.filter(id=chat_id).update(**fields)
    return row


def message_upsert(message: Mapping[str, Any], *, chat_id: str, account_user_id: int,
                   chat_stored: bool = False) -> Message:
    """Store one Avito message (a v3 list entry, a send answer or a webhook value); the chat's row
    is made first unless the caller has it (`chat_stored`)."""
    if not chat_stored:
        chat_stub(chat_id)
    [row] = message_rows_upsert([(message, chat_id, account_user_id)])
    return row


def message_rows_upsert(messages: list[tuple[Mapping[str, Any], str, int]]) -> list[Message]:
    """Store (message, chat id, account) triples whose chats are stored, with one INSERT ... ON CONFLICT
    DO UPDATE: a later copy of a message overwrites the first."""
    now = datetime.now(timezone.utc)
    rows = []
    for message, chat_id, account_user_id in messages:
        message_type = message.get("type") or "text"
        content = message.get("content") or {}
        rows.append(Message(
            id=message["id"], chat_id=chat_id, author_id=_int64(message.get("author_id")),
            direction=message_direction(message, account_user_id), type=message_type,
            text=message_text(message_type, content), content=dict(content), created=_when(message.get("created")),
            is_read=bool(message.get("is_read")), raw=dict(message), stored_at=now))
    Message.objects.bulk_create(rows, update_conflicts=True, unique_fields=["id"], update_fields=MESSAGE_FIELDS)
    return rows


def messages_upsert(messages, *, chat_id: str, account_user_id: int) -> None:
    """Store the messages of a list Avito answered; one whose id is not in Avito's shape is skipped
    (it cannot be a row's key, and the caller still sees it in Avito's answer)."""
    for message in messages:
        if isinstance(message, Mapping) and avito_id_valid(message.get("id")):
            message_upsert(message, chat_id=chat_id, account_user_id=account_user_id)
        elif isinstance(message, Mapping) and message.get("id"):
            logger.warning("Avito listed a message whose id is not in Avito's id shape; not stored: %r",
                           str(message.get("id"))[:200])
