"""The open reconciliation window: where it starts and ends, how far its listing and its reading got.

A window is opened once, from the watermark minus OVERLAP (the only place the overlap is
taken) to the moment it opens. Its chats are listed from Avito once (`WindowChat`) and
read oldest first by (`updated`, id); the cursor is the last chat finished, so a run that
stops early leaves the next one exactly where it stopped, re-reading nothing. Every write
is fenced on the lease: a run that lost it changes nothing.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q

from reconcile.models import ReconcileState, WindowChat

# Read back this far before the watermark when a window opens: Avito's clock and ours may
# disagree a little, and a message may show in Avito's lists a moment after its stamp.
OVERLAP = timedelta(seconds=15)


@dataclass(frozen=True)
class Window:
    since: datetime
    end: datetime
    listing_offset: int | None  # None: listed
    topup: bool  # listing reads the top again (see window_chats_add)
    cursor: tuple[int, str] | None  # (updated, chat id) of the last chat finished


def _state(owner: str):
    return ReconcileState.objects.filter(id=1, lease_owner=owner)


def window_get() -> Window | None:
    state = ReconcileState.objects.filter(id=1).first()
    if state is None or state.window_since is None:
        return None
    cursor = (state.cursor_updated, state.cursor_chat_id) if state.cursor_updated is not None else None
    return Window(state.window_since, state.window_end, state.listing_offset, state.listing_topup, cursor)


def window_open(*, owner: str, since: datetime, end: datetime) -> Window:
    """A fresh window [since, end], nothing listed or read yet."""
    with transaction.atomic():
        WindowChat.objects.all().delete()
        _state(owner).update(window_since=since, window_end=end, listing_offset=0, listing_topup=False,
                             cursor_updated=None, cursor_chat_id="")
    return Window(since, end, 0, False, None)


def window_chats_add(*, owner: str, chats: list[tuple[dict, bool]], next_offset: int | None,
                     topup: bool) -> bool:
    """Keep a listed page's chats of the window (each with whether its last message was missed)
    and where listing goes on (None: done); False if the lease is lost.

    Avito pages by offset, newest first: a chat written to while the list is paged jumps to the
    top, past pages already read, and a page's offset then lands further down. So a listing of
    more than one page ends by reading the top again (`topup`) down to the window's end, for
    the chats that jumped; a one-page listing is one answer and needs none."""
    with transaction.atomic():
        if not _state(owner).update(listing_offset=next_offset, listing_topup=topup):
            return False
        for chat, missed in chats:
            WindowChat.objects.update_or_create(chat_id=chat["id"], defaults={
                "updated": int(chat.get("updated") or 0), "chat": chat, "last_missed": missed})
    return True


def window_chats_after(cursor: tuple[int, str] | None, *, limit: int) -> list[WindowChat]:
    """The next chats to read, oldest first, after the cursor."""
    rows = WindowChat.objects.order_by("updated", "chat_id")
    if cursor is not None:
        updated, chat_id = cursor
        rows = rows.filter(Q(updated__gt=updated) | Q(updated=updated, chat_id__gt=chat_id))
    return list(rows[:limit])


def window_missed() -> list[tuple[int, str]]:
    """(when, chat id) of each missed notification the listing showed: a last message without an event."""
    rows = WindowChat.objects.filter(last_missed=True).values_list("chat", "chat_id")
    return sorted((int((chat.get("last_message") or {}).get("created") or 0), chat_id) for chat, chat_id in rows)


def cursor_advance(*, owner: str, chat: WindowChat) -> bool:
    """The chat is finished; False if the lease is lost."""
    return bool(_state(owner).update(cursor_updated=chat.updated, cursor_chat_id=chat.chat_id))


def window_close(*, owner: str, watermark: datetime) -> None:
    """Every chat of the window was read: the watermark moves to its end (never back)."""
    with transaction.atomic():
        _state(owner).update(window_since=None, window_end=None, listing_offset=None, cursor_updated=None,
                             cursor_chat_id="")
        _state(owner).filter(Q(watermark__isnull=True) | Q(watermark__lt=watermark)).update(watermark=watermark)
        WindowChat.objects.all().delete()
