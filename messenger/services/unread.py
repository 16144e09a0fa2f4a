"""Every unread incoming message of every unread chat, in the shape n8n receives (contract §4).

A polling alternative to the webhook: the same normalizer builds each message, so a
workflow can treat both alike. A chat's history comes newest first, so paging stops at
the first incoming message Avito marks as read (everything older was read too), or at
Avito's offset cap.
"""
from __future__ import annotations

import logging

from messenger.avito import get_client
from messenger.avito.errors import AvitoError
from messenger.normalizer import normalize_message, voice_id
from messenger.selectors import chat_stored_client
from messenger.services.chats import chat_mark_read, chat_walk
from messenger.services.limits import DEFAULT_CHAT_TYPES, LIMIT_MAX, OFFSET_MAX, account_user_id
from messenger.services.messages import message_list
from messenger.storage import chat_client

logger = logging.getLogger(__name__)


def _unread_incoming(chat_id: str) -> list[dict]:
    found, offset = [], 0
    while True:
        page = message_list(chat_id=chat_id, limit=LIMIT_MAX, offset=offset)
        for message in page["messages"]:
            if message.get("direction") != "in":
                continue
            if message.get("is_read") is True:
                return found
            found.append(message)
        offset += LIMIT_MAX
        if not page["meta"]["has_more"] or not page["messages"] or offset > OFFSET_MAX:
            return found


def _voice_urls(messages: list[dict]) -> dict[str, str]:
    ids = [vid for vid in (voice_id(m.get("content")) for m in messages if m.get("type") == "voice") if vid]
    if not ids:
        return {}
    try:
        return get_client().voice_urls(ids)
    except AvitoError as exc:  # the text of the other messages is worth more than a voice link
        logger.warning("Could not resolve voice URLs %s: %s", ids, exc.message)
        return {}


def _normalized(chat: dict, messages: list[dict]) -> list[tuple[int, str, dict]]:
    chat_id = chat["id"]
    context = chat.get("context") or {}
    ad_id = (context.get("value") or {}).get("id") if context.get("type") == "item" else None
    client_user_id, client_name = chat_client(chat, account_user_id())
    if client_user_id is None:  # a chat object without its users: use what was stored before
        client_user_id, client_name = chat_stored_client(chat_id=chat_id)
    voices = _voice_urls(messages)
    return [
        (int(message.get("created") or 0), str(message["id"]), normalize_message(
            message, account_user_id=account_user_id(), chat_id=chat_id,
            chat_type=chat_id.split("-", 1)[0] if "-" in chat_id else None, ad_id=ad_id,
            client_user_id=client_user_id, client_name=client_name,
            voice_url=voices.get(voice_id(message.get("content")) or ""),
        ))
        for message in messages if message.get("id")
    ]


def unread_messages_collect(*, mark_read: bool = False) -> dict:
    """{"count", "messages": [normalized, oldest first], "truncated"}; then mark the chats read if asked."""
    walk = chat_walk(unread_only=True, chat_types=list(DEFAULT_CHAT_TYPES))
    collected: list[tuple[int, str, dict]] = []
    for chat in walk.chats:
        if chat.get("id"):
            collected.extend(_normalized(chat, _unread_incoming(chat["id"])))
    collected.sort(key=lambda entry: entry[:2])
    if mark_read:
        for chat in walk.chats:
            if chat.get("id"):
                chat_mark_read(chat_id=chat["id"])
    messages = [entry[2] for entry in collected]
    return {"count": len(messages), "messages": messages, "truncated": walk.truncated}
