"""Chats: list, fetch, mark read, count the unread and find those about an item; every chat seen is stored.

Avito pages chats with `limit` <= 100 and `offset` <= 1000, so walking "every page" can
reach at most 1100 chats. The walks here say so (`truncated`) instead of pretending the
count is complete when Avito still reports more past its cap.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

from messenger.avito import get_client
from messenger.avito.ids import avito_id_valid
from messenger.models import Direction, Message
from messenger.services.limits import (
    DEFAULT_CHAT_TYPES, LIMIT_MAX, OFFSET_MAX, account_user_id, require_avito_id,
)
from messenger.storage import chat_stub, chat_upsert

logger = logging.getLogger(__name__)


@dataclass
class ChatWalk:
    chats: list[dict] = field(default_factory=list)
    truncated: bool = False  # Avito had more chats past its offset cap


def _store(chats: list[dict], *, unread: bool | None) -> None:
    for chat in chats:
        if usable_chat(chat):
            chat_upsert(chat, account_user_id=account_user_id(), unread=unread)


def usable_chat(chat) -> bool:
    """A chat object whose id can be stored and used in Avito's URLs; one that is not is logged and skipped
    (it is Avito's answer, not the caller's input, so it must not fail the caller's request)."""
    if not isinstance(chat, dict) or not chat.get("id"):
        return False
    if not avito_id_valid(chat["id"]):
        logger.warning("Avito listed a chat whose id is not in Avito's id shape; skipped: %r", str(chat["id"])[:200])
        return False
    return True


def chat_list(*, unread_only: bool = False, item_ids: list[int] | None = None,
              chat_types: list[str] | None = None, limit: int = LIMIT_MAX, offset: int = 0) -> dict:
    """One page of chats: {"chats": [...], "meta": {"has_more": bool}}."""
    page = get_client().list_chats(item_ids=item_ids or None, unread_only=unread_only,
                                   chat_types=list(chat_types or DEFAULT_CHAT_TYPES), limit=limit, offset=offset)
    _store(page["chats"], unread=True if unread_only else None)
    return page


def chat_walk(*, unread_only: bool = False, item_ids: list[int] | None = None,
              chat_types: list[str] | None = None) -> ChatWalk:
    """Every chat matching the filters, page by page, up to Avito's offset cap."""
    walk, offset, seen = ChatWalk(), 0, set()
    while True:
        page = chat_list(unread_only=unread_only, item_ids=item_ids, chat_types=chat_types,
                         limit=LIMIT_MAX, offset=offset)
        for chat in page["chats"]:  # a chat can shift to the next page while we walk
            if chat.get("id") not in seen:
                seen.add(chat.get("id"))
                walk.chats.append(chat)
        if not page["meta"]["has_more"] or not page["chats"]:
            return walk
        offset += LIMIT_MAX
        if offset > OFFSET_MAX:
            walk.truncated = True
            return walk


def chat_get(*, chat_id: str) -> dict:
    require_avito_id(chat_id, field="chat_id")
    chat = get_client().get_chat(chat_id)
    _store([chat], unread=None)
    return chat


def chat_mark_read(*, chat_id: str) -> dict:
    require_avito_id(chat_id, field="chat_id")
    get_client().mark_read(chat_id)
    chat_stub(chat_id, is_unread=False)
    Message.objects.filter(chat_id=chat_id, direction=Direction.IN, is_read=False).update(is_read=True)
    return {"ok": True}


def chat_unread_count() -> dict:
    """Unread chats of types u2i and u2u, every page counted: {"unread_count", "truncated"}."""
    walk = chat_walk(unread_only=True, chat_types=list(DEFAULT_CHAT_TYPES))
    return {"unread_count": len(walk.chats), "truncated": walk.truncated}


def chat_search(*, item_id: int) -> dict:
    """Every chat about one item, every page: {"chats", "truncated"}."""
    walk = chat_walk(item_ids=[item_id], chat_types=["u2i"])
    return {"chats": walk.chats, "truncated": walk.truncated}
