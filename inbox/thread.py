"""A chat as staff read it: its stored messages oldest to newest, each with its n8n delivery.

Only reads rows (no Avito calls). Each Avito message type is told apart the way a person
needs it: text as text, an image as the image (served by the gateway), a voice message as a link that fetches its
file, an item or a link as a link, and the types Avito's API does not pass on (files,
video) as a pointer to the chat on Avito.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping

from django.db.models import F

from messenger.models import Chat, Direction, Message
from messenger.normalizer import largest_image_url, voice_id
from webhooks.models import Delivery
from webhooks.selectors import deliveries_by_message

THREAD_SIZE = 200  # the newest messages shown on a chat's page; older ones are in the Messages list
AVITO_CHAT_URL = "https://www.avito.ru/profile/messenger/channel/{chat_id}"
AVITO_ITEM_URL = "https://www.avito.ru/{item_id}"
NO_CONTENT = {
    "call": "Call",
    "deleted": "Message deleted",
    "appCall": "Call in the Avito app",
    "file": "A file: Avito does not pass files through its API; open the chat on Avito",
    "video": "A video: Avito does not pass videos through its API; open the chat on Avito",
}


@dataclass(frozen=True)
class ThreadEntry:
    id: str
    side: str  # "in", "out" or "system": where the bubble sits
    type: str
    text: str
    created: datetime | None
    is_read: bool
    image: bool = False  # shown through the gateway (inbox.image_view), never from Avito's servers
    voice_id: str | None = None
    link_url: str | None = None
    on_avito: bool = False  # nothing to show here: a link to the chat on Avito instead
    delivery: Delivery | None = None


def _web_url(value: Any) -> str | None:
    """Only http(s) links become links: anything else (javascript:, data:) stays text."""
    if isinstance(value, str) and value.startswith(("https://", "http://")):
        return value
    return None


def _part(content: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = content.get(name)
    return value if isinstance(value, Mapping) else {}


def _entry(message: Message, delivery: Delivery | None) -> ThreadEntry:
    content = message.content if isinstance(message.content, Mapping) else {}
    side = "system" if message.type == "system" else ("out" if message.direction == Direction.OUT else "in")
    common = dict(id=message.id, side=side, type=message.type, created=message.created, is_read=message.is_read,
                  delivery=delivery)
    if message.type == "image":
        return ThreadEntry(text="", image=_web_url(largest_image_url(content)) is not None, **common)
    if message.type == "voice":
        return ThreadEntry(text="Voice message", voice_id=voice_id(content), **common)
    if message.type == "link":
        return ThreadEntry(text=message.text, link_url=_web_url(_part(content, "link").get("url")), **common)
    if message.type == "item":
        return ThreadEntry(text=message.text, link_url=_web_url(_part(content, "item").get("item_url")), **common)
    if message.type in NO_CONTENT:
        return ThreadEntry(text=NO_CONTENT[message.type], on_avito=message.type in ("file", "video"), **common)
    return ThreadEntry(text=message.text, **common)


def chat_thread(*, chat_id: str, size: int = THREAD_SIZE) -> tuple[list[ThreadEntry], int]:
    """The newest `size` messages, oldest first, and how many the chat has in all."""
    rows = Message.objects.filter(chat_id=chat_id)
    newest = list(rows.order_by(F("created").desc(nulls_last=True), "-stored_at")[:size])
    newest.reverse()
    deliveries = deliveries_by_message(message_ids=[message.id for message in newest])
    return [_entry(message, deliveries.get(message.id)) for message in newest], rows.count()


def chat_links(chat: Chat) -> dict[str, str | None]:
    """Where the chat and its item are on Avito (the item's own URL when Avito gave one)."""
    context = (chat.raw or {}).get("context") or {}
    item = context.get("value") if isinstance(context, Mapping) and context.get("type") == "item" else None
    item_url = _web_url((item or {}).get("url")) if isinstance(item, Mapping) else None
    if item_url is None and chat.item_id:
        item_url = AVITO_ITEM_URL.format(item_id=chat.item_id)
    return {"chat_url": AVITO_CHAT_URL.format(chat_id=chat.id), "item_url": item_url}
