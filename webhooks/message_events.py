"""Processing of a `message` notification: store it, normalize it, create its delivery.

In two phases, for a batch of events (webhooks.event_types): `message_events_prepare`,
outside any transaction, finds the chats (one query for the batch; the client's name
comes from the stored chat; an unknown chat is fetched from Avito once and stored) and a
voice message's file URL (getVoiceFiles); `message_events_store`, in the batch's
transaction, upserts the messages (one statement) and each chat's latest state (so the
admin is current: unread flag, last message) and creates the deliveries (one statement). The account's own
messages (Avito echoes them) are stored as outgoing and delivered only with
FORWARD_OWN_MESSAGES. Everything here is idempotent: running it twice for one event
stores the same rows and creates no second delivery.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Mapping

from django.conf import settings
from django.db.models import Q

from messenger.avito import get_client
from messenger.avito.errors import AvitoError
from messenger.models import Chat, ChatType
from messenger.normalizer import message_direction, message_text, normalize_message, unix_time, voice_id
from messenger.storage import chat_stub, chat_upsert, message_rows_upsert
from webhooks.delivery import deliveries_create
from webhooks.models import Delivery, IncomingEvent

logger = logging.getLogger(__name__)

# An event whose Avito look-ups keep failing transiently is retried this many times; after
# that it is delivered without the client's name or voice URL rather than held back longer.
ENRICH_ATTEMPTS = 3


class Enrichment:
    """What the Avito look-ups found, and what they could not, for the event's note."""

    def __init__(self, event: IncomingEvent):
        self.event, self.notes = event, []

    def tolerate(self, exc: AvitoError, what: str) -> None:
        """Give up on this look-up, unless the failure is transient and the event has attempts left."""
        if exc.transient and self.event.attempts < ENRICH_ATTEMPTS:
            raise exc
        self.notes.append(f"{what} unavailable: {exc.message}")


def _account(value: Mapping[str, Any]) -> int:
    if settings.AVITO_USER_ID:
        return settings.AVITO_USER_ID
    user_id = value.get("user_id")  # Avito names the account the webhook is registered for
    return int(user_id) if isinstance(user_id, int) or str(user_id).isdigit() else 0


def _chat_known(chat_id: str, account: int, found: Enrichment, stored: dict[str, Chat]) -> Chat | None:
    """The chat's row, fetched from Avito first unless it was seen before (its `raw` is Avito's
    chat object); None when it is not stored and Avito could not tell."""
    chat = stored.get(chat_id)
    if chat is not None and chat.raw:
        return chat
    try:
        answer = get_client().get_chat(chat_id)
    except AvitoError as exc:
        found.tolerate(exc, "client name")
        return chat
    if isinstance(answer, dict) and answer.get("id") == chat_id:
        stored[chat_id] = chat_upsert(answer, account_user_id=account)  # the batch's next message finds it
        return stored[chat_id]
    found.notes.append("client name unavailable: Avito's chat answer was not a chat")
    return chat


def _voice_url(content: Mapping[str, Any] | None, found: Enrichment) -> str | None:
    wanted = voice_id(content)
    if not wanted:
        return None
    try:
        url = get_client().voice_urls([wanted]).get(wanted)
    except AvitoError as exc:
        found.tolerate(exc, "voice URL")
        return None
    if not url:
        found.notes.append("voice URL unavailable: Avito returned none")
    return url


def _chat_record(chat: Chat, value: Mapping[str, Any], direction: str) -> None:
    """Store on the chat what this message tells: its type and item when unknown, the latest message.
    The row in hand gets the type and item (its latest-message fields are not re-read)."""
    known: dict[str, Any] = {}
    if not chat.chat_type and value.get("chat_type") in ChatType.values:
        known["chat_type"] = value["chat_type"]
    if chat.item_id is None and isinstance(value.get("item_id"), int):
        known["item_id"] = value["item_id"]
    if known:
        Chat.objects.filter(id=chat.id).update(**known)
        for name, field_value in known.items():
            setattr(chat, name, field_value)
    when = unix_time(value.get("created"))
    if when is not None:
        latest = {"last_message_at": when,
                  "last_message_text": message_text(value.get("type") or "text", value.get("content"))}
        if direction == "in":
            latest["is_unread"] = not value.get("read")
        # Only a message newer than the chat's last one moves it (notifications may arrive out of order).
        Chat.objects.filter(Q(last_message_at__isnull=True) | Q(last_message_at__lte=when), id=chat.id).update(**latest)


def _created(value: Mapping[str, Any]) -> float:
    created = value.get("created")
    return float(created) if isinstance(created, (int, float)) else 0.0


@dataclass
class MessageWork:
    """What the look-ups of a message event found, for the stored phase."""
    account: int
    message: dict[str, Any]
    direction: str
    forward: bool
    chat: Chat | None
    voice_url: str | None
    notes: list[str]


def message_events_prepare(events: list[IncomingEvent]) -> list[MessageWork | Exception]:
    """Outside any transaction: the chats (fetched from Avito when unknown) and voice messages' URLs."""
    stored = Chat.objects.in_bulk({event.chat_id for event in events})
    works: list[MessageWork | Exception] = []
    for event in events:
        try:
            works.append(_prepare(event, stored))
        except Exception as exc:  # noqa: BLE001 (recorded on the event's row by the drain)
            works.append(exc)
    return works


def _prepare(event: IncomingEvent, stored: dict[str, Chat]) -> MessageWork:
    value = event.raw["payload"]["value"]
    account = _account(value)
    message = {**value, "id": event.message_id}
    direction = message_direction(message, account)
    forward = direction == "in" or settings.FORWARD_OWN_MESSAGES
    found = Enrichment(event)
    chat = _chat_known(event.chat_id, account, found, stored) if forward else stored.get(event.chat_id)
    voice_url = _voice_url(message.get("content"), found) if forward and message.get("type") == "voice" else None
    return MessageWork(account, message, direction, forward, chat, voice_url, found.notes)


def message_events_store(events: list[IncomingEvent], works: list[MessageWork], owner: str
                         ) -> list[tuple[str, Delivery | None]]:
    """In the batch's transaction: the messages, the chats' latest state, and the deliveries."""
    # Chat rows are locked in one order (by id, then message time) by every drain: two drains'
    # batches touching the same chats wait for each other instead of deadlocking.
    pairs = sorted(zip(events, works), key=lambda pair: (pair[0].chat_id, _created(pair[1].message)))
    chats: dict[str, Chat] = {}
    for event, work in pairs:
        chats[event.chat_id] = chats.get(event.chat_id) or work.chat or chat_stub(event.chat_id)
    message_rows_upsert([(work.message, event.chat_id, work.account) for event, work in zip(events, works)])
    for event, work in pairs:
        _chat_record(chats[event.chat_id], work.message, work.direction)
    payloads = {}
    for event, work in zip(events, works):
        chat = chats[event.chat_id]
        if work.forward:
            message = work.message
            payloads[event.pk] = normalize_message(
                message, account_user_id=work.account, chat_id=event.chat_id,
                chat_type=message.get("chat_type") or chat.chat_type or None,
                ad_id=message.get("item_id") if isinstance(message.get("item_id"), int) else chat.item_id,
                client_user_id=chat.client_user_id, client_name=chat.client_name, voice_url=work.voice_url,
                source=event.source)
    deliveries = deliveries_create(events=[event for event in events if event.pk in payloads],
                                   payloads=list(payloads.values()), owner=owner)
    return [("; ".join(work.notes), deliveries.get(event.pk)) if work.forward
            else ("own message: stored, not delivered (FORWARD_OWN_MESSAGES is off)", None)
            for event, work in zip(events, works)]

