"""avitogw.rows: the hot one-row statements, on the test database (SQLite; PostgreSQL in the real-process suites)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from avitogw.rows import insert_new, update_held, upsert
from messenger.models import Chat, Message
from webhooks.models import EventStatus, IncomingEvent

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
DEFAULTS = {"attempts": "0", "repeats": "0", "last_error": "''", "claimed_until": "NULL", "processed_at": "NULL"}


def an_event(message_id="m-1") -> dict:
    return {"avito_event_id": "", "event_type": "message", "message_id": message_id, "chat_id": "u2i-1",
            "status": EventStatus.PENDING, "note": "", "raw": {"text": "Привет"}, "next_attempt_at": T0,
            "received_at": T0, "source": "webhook"}


def test_insert_new_stores_once_per_key_and_as_the_orm_reads_it():
    pk = insert_new(IncomingEvent, an_event(), key="message_id", constants=DEFAULTS)
    assert insert_new(IncomingEvent, an_event(), key="message_id", constants=DEFAULTS) is None
    event = IncomingEvent.objects.get()
    assert (event.pk, event.raw, event.next_attempt_at, event.attempts) == (pk, {"text": "Привет"}, T0, 0)


def test_a_column_left_out_fails_loudly_instead_of_storing_a_half_row():
    values = an_event()
    del values["note"]
    with pytest.raises(RuntimeError, match="leaves out"):
        insert_new(IncomingEvent, values, key="message_id", constants=DEFAULTS)


def test_update_held_changes_only_a_row_still_held():
    pk = insert_new(IncomingEvent, an_event(), key="message_id", constants=DEFAULTS)
    IncomingEvent.objects.filter(pk=pk).update(status=EventStatus.PROCESSING, attempts=2)
    stale = update_held(IncomingEvent, pk, held={"status": EventStatus.PROCESSING, "attempts": 1},
                        changes={"status": EventStatus.PROCESSED})
    held = update_held(IncomingEvent, pk, held={"status": EventStatus.PROCESSING, "attempts": 2},
                       changes={"status": EventStatus.PROCESSED, "note": "done"})
    assert (stale, held) == (0, 1)
    assert IncomingEvent.objects.values_list("status", "note").get() == (EventStatus.PROCESSED, "done")


def test_update_held_if_not_later_never_moves_a_time_back():
    Chat.objects.create(id="u2i-1")
    latest = {"last_message_text": "second"}
    assert update_held(Chat, "u2i-1", held={}, changes={**latest, "last_message_at": T0},
                       if_not_later=("last_message_at", T0)) == 1  # empty: set
    older = T0 - timedelta(minutes=1)
    assert update_held(Chat, "u2i-1", held={}, changes={"last_message_text": "first", "last_message_at": older},
                       if_not_later=("last_message_at", older)) == 0  # an older message arriving late
    assert Chat.objects.values_list("last_message_text", flat=True).get() == "second"


def test_upsert_inserts_then_updates_the_named_fields():
    Chat.objects.create(id="u2i-1")
    row = {"id": "m-1", "chat": "u2i-1", "author_id": 1, "direction": "in", "type": "text", "text": "a",
           "content": {"text": "a"}, "created": T0, "is_read": False, "raw": {}, "stored_at": T0}
    upsert(Message, row, update=["text", "is_read"])
    upsert(Message, {**row, "text": "b", "is_read": True, "author_id": 2}, update=["text", "is_read"])
    assert Message.objects.values_list("text", "is_read", "author_id").get() == ("b", True, 1)
