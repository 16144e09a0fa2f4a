"""What one reconciliation reads from Avito, and how a message found there enters the pipeline.

`chats_listed` reads one page of Avito's chat list (newest `updated` first) and keeps the
chats of the window, stopping at the first one older than its start. `chat_reconcile` then
decides, per chat, from the chat list's own `last_message`, whether it costs a call:

- its last message is older than the window: nothing was written in it, no call;
- its last message has an event and fewer than OUTAGE other chats' notifications written
  before it are known to be missing (a drop here and there is no outage): nothing is missing,
  no call;
- its last message has no event, no other chat of the window shows a missed notification, and
  the chat's previous message the gateway holds was written in the window: that message is the
  one missed, delivered from the chat list, no call;
- otherwise (notifications were missed in other chats too: an outage, or drops) it may hide
  missed messages older than its last one, so its messages are read (v3, newest first) back to
  the window's start, one call a page.

"Missed" is what the window's listing showed: a chat's last message without an event. The
rules are a bet on what Avito's chat list cannot say (how many messages a chat got): an
isolated dropped notification followed by a delivered message in the same chat, or two dropped
in a row in a chat whose previous message came in the window, would be lost to it. So every
chat the bet spares is remembered (reconcile.deferred) and read in full later, with spare room
only (`deferred_reconcile`): the bet saves the window's calls, not the messages. What remains is
a shop with no spare room ever, whose spared chats wait (reconcile.deferred says how long).

Each message no event holds yet goes to `webhooks.intake.event_receive`, the function the
webhook view calls, as the notification Avito would have sent. The event's unique message
id makes the webhook and the poll collide: whichever comes second is a duplicate, so the
message is processed and delivered once, with the same event_id.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Mapping

from django.conf import settings

from messenger.avito.client import AvitoClient
from messenger.selectors import chat_message_stored_before
from messenger.storage import chat_type_of, chat_upsert
from reconcile.deferred import chat_deferred_read, chat_defer, chat_read_in_full
from reconcile.models import DeferredChat
from webhooks.intake import event_receive
from webhooks.models import EventSource
from webhooks.selectors import message_ids_stored

CHAT_TYPES = ("u2i", "u2u", "a2u")  # every kind of chat a notification can come from
CHATS_PAGE = 100  # Avito's largest page
MESSAGES_PAGE = 20  # a chat rarely gets more between two runs; more pages are read when it does
MAX_OFFSET = 1000  # Avito's cap on `offset`, for chats and messages alike
IN_FLIGHT = 3  # seconds: a last message this young may have its notification on the way, not missed
OUTAGE = 3  # missed notifications in other chats that make a chat whose last message came suspect


def _unix(value: Any) -> int:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0


def _second(moment: datetime) -> int:
    """Avito stamps whole seconds: a window starting within a second takes all of that second (a
    message written in the same second as the window's start may be on either side of it)."""
    return int(moment.timestamp())


def _last(chat: Mapping[str, Any]) -> dict:
    last = chat.get("last_message")
    return last if isinstance(last, dict) and last.get("id") else {}


def chats_listed(client: AvitoClient, *, since: datetime, end: datetime, offset: int,
                 topup: bool = False) -> tuple[list[tuple[dict, bool]], int | None]:
    """One page of the chat list from `offset`: the chats updated at or after `since` (those updated
    after `end` too: their messages of the window are read with the others), each with whether its
    last message's notification was missed; and the next offset, None at the window's start. A
    top-up page (`topup`) keeps only chats updated after `end` (to the second), and ends at the first
    one that is not."""
    page = client.list_chats(chat_types=CHAT_TYPES, limit=CHATS_PAGE, offset=offset)
    floor, found, older = (_second(end) if topup else _second(since)), [], False
    for chat in page["chats"]:
        if _unix(chat.get("updated")) < floor:
            older = True
            break
        if isinstance(chat.get("id"), str) and chat["id"]:
            found.append(chat)
    stored = message_ids_stored([str(_last(chat)["id"]) for chat in found if _last(chat)])
    settled = end.timestamp() - IN_FLIGHT
    listed = [(chat, bool(_last(chat)) and str(_last(chat)["id"]) not in stored
               and _second(since) <= _unix(_last(chat).get("created")) < settled) for chat in found]
    done = older or not page["meta"]["has_more"] or offset + CHATS_PAGE > MAX_OFFSET
    return listed, None if done else offset + CHATS_PAGE


def _suspect(chat_id: str, last: Mapping[str, Any], *, stored: bool, missed: list[tuple[int, str]],
             since: datetime) -> bool:
    """May the chat hide missed messages older than its last one? (see the module)"""
    others = [at for at, other in missed if other != chat_id]
    if stored:
        return sum(at <= _unix(last.get("created")) for at in others) >= OUTAGE
    if others:
        return True
    previous = chat_message_stored_before(chat_id=chat_id, before=datetime.fromtimestamp(
        _unix(last.get("created")), tz=timezone.utc))
    return previous is None or previous.timestamp() < _second(since)


def chat_reconcile(client: AvitoClient, chat: Mapping[str, Any], *, since: datetime, until: datetime,
                   missed: list[tuple[int, str]], full: bool = False, now: datetime | None = None) -> int:
    """Store the chat (the admin lists it) and an event for each of its messages since `since` that
    no event holds yet, reading its messages only when the chat list cannot tell (see the module)
    and remembering a chat it spared (reconcile.deferred); returns how many were new."""
    account = settings.AVITO_USER_ID
    chat_upsert(chat, account_user_id=account)
    last, floor = _last(chat), _second(since)
    if not last or _unix(last.get("created")) < floor:
        return 0  # nothing written in the window (the chat changed otherwise: read, say)
    stored = bool(message_ids_stored([str(last["id"])]))
    if not full and not _suspect(chat["id"], last, stored=stored, missed=missed, since=since):
        chat_defer(chat, since=since, until=until, now=now or until)
        return 0 if stored else _deliver(last, chat, account)
    found = _read_in_full(client, chat, floor=floor, before=None)
    chat_read_in_full(chat["id"], since=since, until=until)
    return found


def deferred_reconcile(client: AvitoClient, row: DeferredChat) -> int:
    """Read a chat a window spared (reconcile.deferred) from its `since` to its `until`; the
    messages after `until` are the later windows' to judge. Returns how many were new."""
    found = _read_in_full(client, row.chat, floor=_second(row.since), before=_second(row.until))
    chat_deferred_read(row)
    return found


def _read_in_full(client: AvitoClient, chat: Mapping[str, Any], *, floor: int, before: int | None) -> int:
    account, found = settings.AVITO_USER_ID, 0
    messages = [message for message in _messages_since(client, chat["id"], floor)
                if before is None or _unix(message.get("created")) < before]
    known = message_ids_stored([str(message["id"]) for message in messages])
    for message in reversed(messages):  # oldest first, as they were written
        if str(message["id"]) not in known:
            found += _deliver(message, chat, account)
    return found


def _deliver(message: Mapping[str, Any], chat: Mapping[str, Any], account: int) -> int:
    body = json.dumps(notification_for(message, chat, account=account), ensure_ascii=False).encode()
    return int(event_receive(body=body, source=EventSource.POLL).outcome == "stored")


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
    """The v3 notification Avito would have sent for a message of its v3 list or a chat's
    `last_message` (which has the same fields but `read`) (avito-api.md §5.4)."""
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
