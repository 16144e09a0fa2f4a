"""What one reconciliation reads from Avito, and how a message found there enters the pipeline.

`chats_updated_since` pages Avito's chat list (newest first by `updated`) and stops at the
first chat older than the window; `chat_catch_up` reads that chat's newest messages
(v3, newest first) back to the window's start and hands each one no event holds yet to
`webhooks.intake.event_receive`, the function the webhook view calls, as the notification
Avito would have sent. The event's unique message id makes the webhook and the poll
collide: whichever comes second is a duplicate, so the message is processed and
delivered once, with the same event_id, through the same processing and delivery.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Mapping

from django.conf import settings

from messenger.avito.client import AvitoClient
from messenger.storage import chat_type_of, chat_upsert
from webhooks.intake import event_receive
from webhooks.models import EventSource
from webhooks.selectors import message_ids_stored

CHAT_TYPES = ("u2i", "u2u", "a2u")  # every kind of chat a notification can come from
CHATS_PAGE = 100  # Avito's largest page
MESSAGES_PAGE = 20  # a chat rarely gets more between two runs; more pages are read when it does
MAX_OFFSET = 1000  # Avito's cap on `offset`, for chats and messages alike


def _unix(value: Any) -> int:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0


def chats_updated_since(client: AvitoClient, since: datetime) -> list[dict]:
    """Every chat updated at or after `since`, oldest first (so a run that stops early has read
    the older ones). An idle account costs one call."""
    floor, found, offset = since.timestamp(), [], 0
    while offset <= MAX_OFFSET:
        page = client.list_chats(chat_types=CHAT_TYPES, limit=CHATS_PAGE, offset=offset)
        for chat in page["chats"]:
            if _unix(chat.get("updated")) < floor:
                return found[::-1]
            if isinstance(chat.get("id"), str) and chat["id"]:
                found.append(chat)
        if not page["meta"]["has_more"]:
            break
        offset += CHATS_PAGE
    return found[::-1]


def _messages_since(client: AvitoClient, chat_id: str, floor: float) -> list[dict]:
    """The chat's messages created at or after `floor`, newest first."""
    found, offset = [], 0
    while offset <= MAX_OFFSET:
        page = client.list_messages(chat_id, limit=MESSAGES_PAGE, offset=offset)
        for message in page["messages"]:
            if not isinstance(message, dict):
                continue
            if _unix(message.get("created")) < floor:
                return found
            if message.get("id"):
                found.append(message)
        if not page["meta"]["has_more"]:
            break
        offset += MESSAGES_PAGE
    return found


def notification_for(message: Mapping[str, Any], chat: Mapping[str, Any], *, account: int) -> dict:
    """The v3 notification Avito would have sent for a message of its v3 list (avito-api.md §5.4)."""
    chat_id = chat["id"]
    context = chat.get("context") if isinstance(chat.get("context"), dict) else {}
    item = context.get("value") if context.get("type") == "item" and isinstance(context.get("value"), dict) else {}
    author_id = message.get("author_id")
    if author_id is None:  # the list always names the author; the direction says it if not
        author_id = account if message.get("direction") == "out" else None
    created = _unix(message.get("created"))
    value = {
        "id": str(message["id"]), "chat_id": chat_id, "user_id": account, "author_id": author_id,
        "created": created, "type": message.get("type") or "text", "chat_type": chat_type_of(chat_id) or None,
        "content": message.get("content") if isinstance(message.get("content"), dict) else {},
        "item_id": item.get("id"), "read": message.get("read"),
        "published_at": datetime.fromtimestamp(created, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    return {"id": f"poll-{message['id']}", "version": "v3.0.0", "timestamp": created,
            "payload": {"type": "message", "value": value}}


def chat_catch_up(client: AvitoClient, chat: Mapping[str, Any], since: datetime) -> int:
    """Store the chat (the admin lists it), then an event for each of its messages since `since`
    that no event holds yet, oldest first; returns how many were new."""
    account = settings.AVITO_USER_ID
    chat_upsert(chat, account_user_id=account)
    messages = _messages_since(client, chat["id"], since.timestamp())
    known = message_ids_stored([str(message["id"]) for message in messages])
    found = 0
    for message in reversed(messages):
        if str(message["id"]) in known:
            continue
        body = json.dumps(notification_for(message, chat, account=account), ensure_ascii=False).encode()
        if event_receive(body=body, source=EventSource.POLL).outcome == "stored":
            found += 1
    return found
