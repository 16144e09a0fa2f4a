"""Chats the chat list spared a call on, remembered to be read in full once there is spare room.

The chat list says a chat's newest message, not how many it got: a chat whose last message
is stored (or delivered from the list) may still hide an older one whose notification was
dropped (a customer writes twice; the first notification is lost, the second comes). A
window spares the call all the same (that is what lets a busy shop finish its runs) and
remembers the chat here, one row a chat covering every window that spared it. A run that
closed its window then reads these chats oldest first, with the call window's spare room
only (never the floor), so they neither hold back the watermark nor take calls from sends.
At most MAX_DEFERRED chats are remembered: past that the oldest are forgotten (a shop that
never has spare room for them).
"""
from __future__ import annotations

from datetime import datetime
from typing import Mapping

from django.db import transaction
from django.db.models import F
from django.db.models.functions import Greatest

from reconcile.models import DeferredChat

MAX_DEFERRED = 5000


def chat_defer(chat: Mapping, *, since: datetime, until: datetime, now: datetime) -> None:
    """Remember the chat to be read from `since` to `until` (widening what is remembered already)."""
    with transaction.atomic():
        row, created = DeferredChat.objects.select_for_update().get_or_create(
            chat_id=chat["id"], defaults={"chat": dict(chat), "since": since, "until": until, "deferred_at": now})
        if not created:
            row.chat, row.since, row.until = dict(chat), min(row.since, since), max(row.until, until)
            row.save(update_fields=["chat", "since", "until"])
    _forget_beyond(MAX_DEFERRED)


def _forget_beyond(limit: int) -> None:
    beyond = list(DeferredChat.objects.order_by("-deferred_at", "-chat_id").values_list("chat_id", flat=True)[limit:])
    if beyond:
        DeferredChat.objects.filter(chat_id__in=beyond).delete()


def chats_deferred(*, limit: int) -> list[DeferredChat]:
    """The chats to read, the longest waiting first."""
    return list(DeferredChat.objects.order_by("deferred_at", "chat_id")[:limit])


def chat_deferred_read(row: DeferredChat) -> None:
    """The chat was read from its `since` to its `until`: forgotten, unless a window spared it again
    meanwhile (its `until` moved), then it waits for what came after."""
    if not DeferredChat.objects.filter(chat_id=row.chat_id, until=row.until).delete()[0]:
        DeferredChat.objects.filter(chat_id=row.chat_id).update(since=Greatest(F("since"), row.until))


def chat_deferred_postpone(row: DeferredChat, *, now: datetime) -> None:
    """Reading the chat failed: it goes to the back of the queue."""
    DeferredChat.objects.filter(chat_id=row.chat_id).update(deferred_at=now)


def chat_read_in_full(chat_id: str, *, since: datetime, until: datetime) -> None:
    """A window read the chat in full: what it covered needs no other read."""
    DeferredChat.objects.filter(chat_id=chat_id, since__gte=since, until__lte=until).delete()
