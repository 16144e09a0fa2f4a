"""The incoming side: store Avito's notification at once, process it later in Celery.

`event_receive` runs inside Avito's 2-second budget, so it only parses, stores the raw
event (unique on Avito's message id: a repeat is dropped by the database) and rings the
worker after commit (webhooks.doorbell: one wake-up per burst). In the worker,
`events_drain` claims pending events a few at a time (and wakes more drains on a backlog),
`event_process` takes one row; both claim with a conditional UPDATE. Processing dispatches
on the event type (EVENT_PROCESSORS; anything else is stored as ignored) and records a
crash on the row, where the sweep finds it again.
"""
from __future__ import annotations

import json
import logging
import random
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from webhooks.backoff import backoff_delay
from webhooks.doorbell import bell_answer
from webhooks.message_events import message_event_process
from webhooks.models import EventStatus, IncomingEvent
from webhooks.wakeups import event_process_wakeup, event_stored_wakeup, events_drain_wakeup

logger = logging.getLogger(__name__)
Clock = Callable[[], datetime]

# Processors by Avito's payload.type; Avito documents only "message". Any other type is
# acknowledged and stored as ignored, so staff can see what Avito started sending.
EVENT_PROCESSORS: dict[str, Callable[[IncomingEvent], str]] = {"message": message_event_process}
ID_MAX = 128
SHORT_RETRY = 300  # seconds; a longer wait is left to the sweep rather than to a Celery ETA
DRAIN_LIMIT = 200  # events per drain task before it hands over to a fresh one
DRAIN_FAN_OUT = 4  # drains at most at once on a backlog: about the worker slots of a small deployment
CLAIM_BATCH = 4  # events a drain claims with one UPDATE


class NotificationInvalid(Exception):
    """The body is not an Avito notification at all (not JSON, not an object)."""


@dataclass(frozen=True)
class Receipt:
    outcome: str  # "probe", "stored", "ignored" or "duplicate"
    event: IncomingEvent | None = None


def _without_nul(value: Any) -> Any:
    """JSON minus NUL characters, which PostgreSQL's jsonb refuses."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [_without_nul(item) for item in value]
    if isinstance(value, dict):
        return {_without_nul(key): _without_nul(item) for key, item in value.items()}
    return value


def _short_id(value: Any) -> str | None:
    text = str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    return text if 0 < len(text) <= ID_MAX else None


def _classify(data: dict) -> dict[str, Any]:
    """The row's fields from the notification: pending when there is work, else ignored with why."""
    payload = data.get("payload") if isinstance(data.get("payload"), dict) else {}
    value = payload.get("value") if isinstance(payload.get("value"), dict) else {}
    event_type = str(payload.get("type") or "")[:64]
    fields = {"avito_event_id": (_short_id(data.get("id")) or ""), "event_type": event_type,
              "chat_id": _short_id(value.get("chat_id")) or ""}
    if event_type not in EVENT_PROCESSORS:
        return {**fields, "status": EventStatus.IGNORED, "note": f"event type {event_type!r} is not handled"}
    message_id = _short_id(value.get("id"))
    if not (message_id and fields["chat_id"]):
        return {**fields, "status": EventStatus.IGNORED, "note": "the message has no usable id or chat_id"}
    return {**fields, "message_id": message_id, "status": EventStatus.PENDING}


def event_receive(*, body: bytes, clock: Clock = timezone.now) -> Receipt:
    """Store one notification from Avito; processing is queued for after the commit."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise NotificationInvalid("The body is not valid JSON.") from exc
    if not isinstance(data, dict):
        raise NotificationInvalid("The body must be a JSON object (Avito's notification).")
    if not data:
        return Receipt("probe")  # Avito's reachability check: nothing to store
    fields = _classify(data)
    raw = _without_nul(data) if b"\\u0000" in body else data  # a NUL can only come escaped
    try:
        with _savepoint_if_nested():
            event = IncomingEvent.objects.create(raw=raw, next_attempt_at=clock(), **fields)
    except IntegrityError:
        # The same message id again (Avito repeating itself, or two copies racing): count and drop.
        IncomingEvent.objects.filter(message_id=fields.get("message_id")).update(repeats=F("repeats") + 1)
        return Receipt("duplicate")
    if event.status != EventStatus.PENDING:
        return Receipt("ignored", event)
    transaction.on_commit(lambda: event_stored_wakeup(event.pk))
    return Receipt("stored", event)


def _savepoint_if_nested():
    """In autocommit (a web request) the INSERT is its own transaction: one round trip, no
    BEGIN/COMMIT around it. Inside a caller's transaction, a savepoint keeps a duplicate's
    IntegrityError from breaking that transaction."""
    return transaction.atomic() if transaction.get_connection().in_atomic_block else nullcontext()


def events_drain(*, fan_out: bool = True, clock: Clock = timezone.now,
                 rand: Callable[[], float] = random.random) -> int:
    """Process pending events, oldest first, a claimed batch at a time; returns how many it processed.

    Woken through the doorbell: it answers the bell before it looks, so an event stored
    from now on wakes another drain. When it finds a backlog (a full batch) it wakes
    DRAIN_FAN_OUT - 1 more drains, once, so that several worker processes drain side by
    side; those (fan_out=False) do not fan out again. Each batch is claimed with one
    conditional UPDATE of rows no other drain holds, so no two drains take the same event.
    After DRAIN_LIMIT events a drain hands over to a new one, so a long burst does not
    hold one worker slot for ever.
    """
    bell_answer()
    done = 0
    while done < DRAIN_LIMIT:
        events = _events_claim(now=clock(), limit=min(CLAIM_BATCH, DRAIN_LIMIT - done))
        if not events:
            return done
        if fan_out and len(events) == CLAIM_BATCH:
            fan_out = False
            for _ in range(DRAIN_FAN_OUT - 1):
                events_drain_wakeup(fan_out=False)
        for event in events:
            _event_run(event, clock, rand)
            done += 1
    events_drain_wakeup(fan_out=False)
    return done


def _events_claim(*, now: datetime, limit: int) -> list[IncomingEvent]:
    """Take up to `limit` due pending events at once: rows locked by another drain are skipped
    (PostgreSQL; SQLite serializes writers), and the UPDATE re-checks the status. The lease
    covers the batch's events processed one after another."""
    with transaction.atomic():
        due = IncomingEvent.objects.filter(status=EventStatus.PENDING, next_attempt_at__lte=now)
        events = list(due.select_for_update(skip_locked=True).order_by("pk")[:limit])
        lease_end = now + event_lease() * len(events)
        claimed = due.filter(pk__in=[event.pk for event in events]).update(
            status=EventStatus.PROCESSING, attempts=F("attempts") + 1, claimed_until=lease_end)
        # Only without row locks can another drain have taken some: undo, stop; it or the sweep goes on.
        if claimed != len(events):
            transaction.set_rollback(True)
            return []
    for event in events:
        event.status, event.attempts, event.claimed_until = EventStatus.PROCESSING, event.attempts + 1, lease_end
    return events


def event_lease() -> timedelta:
    """How long a worker may hold an event: two Avito calls with all their retries, and a margin."""
    return timedelta(seconds=2 * settings.CONNECTION_TIMEOUT * (settings.MAX_RETRIES + 1) + 10)


def event_process(*, event_pk: int, clock: Clock = timezone.now,
                  rand: Callable[[], float] = random.random) -> IncomingEvent | None:
    """Process one stored event if it is due and nobody else holds it; None when it was not ours."""
    now = clock()
    claimed = IncomingEvent.objects.filter(
        pk=event_pk, status__in=[EventStatus.PENDING, EventStatus.ERROR], next_attempt_at__lte=now,
    ).update(status=EventStatus.PROCESSING, attempts=F("attempts") + 1, claimed_until=now + event_lease())
    if not claimed:
        return None
    event = _event_run(IncomingEvent.objects.get(pk=event_pk), clock, rand)
    event.refresh_from_db()
    return event


def _event_run(event: IncomingEvent, clock: Clock, rand: Callable[[], float]) -> IncomingEvent:
    """Process an event this worker has claimed, and record the outcome on its row."""
    try:
        # The processor calls Avito outside any transaction (a SQLite write lock must not wait
        # on the network) and stores in one; a crash before the finish below only means the
        # idempotent processing runs again.
        note = EVENT_PROCESSORS[event.event_type](event)
    except Exception as exc:  # noqa: BLE001 (whatever broke, the event must stay on record)
        logger.exception("Processing incoming event %s failed (attempt %s)", event.pk, event.attempts)
        _event_failed(event, exc, clock(), rand)
    else:
        _event_finish(event, status=EventStatus.PROCESSED, note=note, error="", processed_at=clock())
    return event


def _event_finish(event: IncomingEvent, **fields) -> int:
    """Update the event if this worker still holds it (the attempt number is the fence)."""
    changes = {"status": fields.pop("status"), "note": fields.pop("note", event.note)[:255],
               "last_error": fields.pop("error"), "claimed_until": None, **fields}
    return IncomingEvent.objects.filter(pk=event.pk, status=EventStatus.PROCESSING,
                                        attempts=event.attempts).update(**changes)


def _event_failed(event: IncomingEvent, exc: Exception, now: datetime, rand: Callable[[], float]) -> None:
    error = f"{type(exc).__name__}: {exc}"[:2000]
    if event.attempts >= settings.N8N_FORWARD_MAX_ATTEMPTS:
        _event_finish(event, status=EventStatus.FAILED, error=error)
        return
    delay = backoff_delay(attempt=event.attempts, base=settings.N8N_FORWARD_BACKOFF_BASE,
                          cap=settings.N8N_FORWARD_BACKOFF_MAX, rand=rand)
    if _event_finish(event, status=EventStatus.ERROR, error=error, next_attempt_at=now + timedelta(seconds=delay)):
        if delay <= SHORT_RETRY:
            transaction.on_commit(lambda: event_process_wakeup(event.pk, countdown=delay))


def event_reprocess(*, event_pk: int, clock: Clock = timezone.now) -> bool:
    """Staff asked to process an event again (a delivery that exists already is not duplicated)."""
    updated = IncomingEvent.objects.filter(pk=event_pk, message_id__isnull=False).exclude(
        status=EventStatus.PROCESSING).update(status=EventStatus.PENDING, attempts=0, next_attempt_at=clock(),
                                              claimed_until=None)
    if updated:
        transaction.on_commit(lambda: event_process_wakeup(event_pk))
    return bool(updated)
