"""Processing of a `message` notification: store it, normalize it, create its delivery.

The chat and the message are upserted so the admin is current (unread flag, last message).
The client's name comes from the stored chat; an unknown chat is fetched from Avito once
and stored. A voice message gets its file URL from getVoiceFiles. The account's own
messages (Avito echoes them) are stored as outgoing and delivered only with
FORWARD_OWN_MESSAGES. Everything here is idempotent: running it twice for one event
stores the same rows and creates no second delivery.
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any, Mapping

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from messenger.avito import get_client
from messenger.avito.errors import AvitoError
from messenger.models import Chat, ChatType
from messenger.normalizer import message_direction, message_text, normalize_message, voice_id
from messenger.storage import chat_stub, chat_upsert, message_upsert
from webhooks.delivery import delivery_create
from webhooks.models import IncomingEvent

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


def _chat_known(chat_id: str, account: int, found: Enrichment) -> None:
    """Fetch the chat from Avito unless it was seen before (its `raw` is Avito's chat object)."""
    if Chat.objects.filter(id=chat_id).exclude(raw={}).exists():
        return
    try:
        chat = get_client().get_chat(chat_id)
    except AvitoError as exc:
        found.tolerate(exc, "client name")
        return
    if isinstance(chat, dict) and chat.get("id") == chat_id:
        chat_upsert(chat, account_user_id=account)
    else:
        found.notes.append("client name unavailable: Avito's chat answer was not a chat")


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


def _chat_record(chat_id: str, value: Mapping[str, Any], direction: str) -> Chat:
    """Store on the chat what this message tells (its type and item, the latest message); returns the
    row as read, with the type and item set (its latest-message fields are not re-read)."""
    chat = chat_stub(chat_id)
    known: dict[str, Any] = {}
    if not chat.chat_type and value.get("chat_type") in ChatType.values:
        known["chat_type"] = value["chat_type"]
    if chat.item_id is None and isinstance(value.get("item_id"), int):
        known["item_id"] = value["item_id"]
    created = value.get("created")
    if isinstance(created, (int, float)):
        when = datetime.fromtimestamp(int(created), tz=timezone.utc)
        latest = {"last_message_at": when,
                  "last_message_text": message_text(value.get("type") or "text", value.get("content"))}
        if direction == "in":
            latest["is_unread"] = not value.get("read")
        # Only a message newer than the chat's last one moves it (notifications may arrive out of order).
        Chat.objects.filter(Q(id=chat_id), Q(last_message_at__isnull=True) | Q(last_message_at__lte=when)
                            ).update(**latest)
    if known:
        Chat.objects.filter(id=chat_id).update(**known)
        for name, field_value in known.items():
            setattr(chat, name, field_value)
    return chat


def message_event_process(event: IncomingEvent) -> str:
    """Store the message and create its delivery; returns the note for the event row."""
    value = event.raw["payload"]["value"]
    account, chat_id = _account(value), event.chat_id
    message = {**value, "id": event.message_id}
    direction = message_direction(message, account)
    forward = direction == "in" or settings.FORWARD_OWN_MESSAGES
    found = Enrichment(event)
    voice_url = None
    if forward:
        _chat_known(chat_id, account, found)
        if message.get("type") == "voice":
            voice_url = _voice_url(message.get("content"), found)
    with transaction.atomic():
        message_upsert(message, chat_id=chat_id, account_user_id=account)
        chat = _chat_record(chat_id, message, direction)
        if not forward:
            return "own message: stored, not delivered (FORWARD_OWN_MESSAGES is off)"
        payload = normalize_message(
            message, account_user_id=account, chat_id=chat_id,
            chat_type=message.get("chat_type") or chat.chat_type or None,
            ad_id=message.get("item_id") if isinstance(message.get("item_id"), int) else chat.item_id,
            client_user_id=chat.client_user_id, client_name=chat.client_name, voice_url=voice_url,
        )
        delivery_create(event=event, payload=payload)
    return "; ".join(found.notes)
