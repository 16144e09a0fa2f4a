"""Every unread incoming message of every unread chat, in the shape n8n receives (contract §4).

A polling alternative to the webhook: the same normalizer builds each message, so a
workflow can treat both alike. A chat's history comes newest first, so paging stops at
the first incoming message Avito marks as read (everything older was read too), or at
Avito's offset cap.
"""
from __future__ import annotations

import logging
import math
import time
from typing import Callable

from messenger.avito import get_client
from messenger.avito.errors import AvitoError, AvitoNotFound
from messenger.normalizer import normalize_message, voice_id
from messenger.selectors import chat_stored_client
from messenger.services.chats import chat_mark_read, chat_walk, usable_chat
from messenger.services.limits import DEFAULT_CHAT_TYPES, LIMIT_MAX, OFFSET_MAX, account_user_id
from messenger.services.messages import message_list
from messenger.storage import chat_client, chat_type_of

logger = logging.getLogger(__name__)

# Seconds of collecting before answering with what is there: well inside gunicorn's and
# proxies' usual 30 s, so a long backlog yields a partial answer, not a dropped connection.
TIME_BUDGET = 20.0


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
        (_sort_time(message), str(message["id"]), normalize_message(
            message, account_user_id=account_user_id(), chat_id=chat_id,
            chat_type=chat_type_of(chat_id) or None, ad_id=ad_id,
            client_user_id=client_user_id, client_name=client_name,
            voice_url=voices.get(voice_id(message.get("content")) or ""), source="poll",
        ))
        for message in messages if message.get("id")
    ]


def _sort_time(message: dict) -> float:
    """Avito's `created` for ordering; anything that is not a finite number sorts first."""
    created = message.get("created")
    if isinstance(created, bool) or not isinstance(created, (int, float)) or not math.isfinite(created):
        return 0
    return created


def unread_messages_collect(*, mark_read: bool = False, budget: float = TIME_BUDGET,
                            clock: Callable[[], float] = time.monotonic) -> dict:
    """{"count", "messages": [normalized, oldest first], "truncated"}; chats marked read if asked.

    Each unread chat costs Avito calls under the shared rate limit, so a long backlog cannot
    be read in one request: past `budget` seconds, or when Avito fails after the first chat,
    the chats read so far are answered with `truncated: true`; the rest stay unread for the
    next call. With `mark_read`, each chat is marked right after its messages are collected,
    so a chat is never marked read unless its messages are in this answer.
    """
    deadline = clock() + budget
    walk = chat_walk(unread_only=True, chat_types=list(DEFAULT_CHAT_TYPES))
    collected: list[tuple[int, str, dict]] = []
    answered = 0
    truncated = walk.truncated
    for chat in walk.chats:
        if not usable_chat(chat):
            continue
        if answered and clock() > deadline:
            truncated = True
            break
        try:
            found = _normalized(chat, _unread_incoming(chat["id"]))
        except AvitoNotFound:
            continue  # the chat disappeared while we walked
        except AvitoError:
            if not answered:
                raise  # nothing to show yet: the caller gets the error (and retries)
            truncated = True
            break
        collected.extend(found)
        answered += 1
        if mark_read and not _mark_read(chat["id"]):
            truncated = True
            break
    collected.sort(key=lambda entry: entry[:2])
    messages = [entry[2] for entry in collected]
    return {"count": len(messages), "messages": messages, "truncated": truncated}


def _mark_read(chat_id: str) -> bool:
    try:
        chat_mark_read(chat_id=chat_id)
        return True
    except AvitoError as exc:
        # Its messages are in this answer already; left unread, they come again next time
        # (same event_id), whereas failing the request would lose the whole answer.
        logger.warning("Could not mark %s read (%s); it stays unread", chat_id, exc.message)
        return False
