"""The worker's side of incoming events: process what webhooks.intake stored.

`events_drain` claims pending events a few at a time (and wakes more drains on a backlog),
`event_process` takes one row; both claim with a conditional UPDATE. Processing dispatches
on the event type (EVENT_PROCESSORS; anything else is stored as ignored) and records a
crash on the row, where the sweep finds it again. A delivery that processing created is
posted to n8n by the same worker right after (webhooks.delivery), not by a task of its own.
"""
from __future__ import annotations

import logging
import random
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Callable

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import F
from django.utils import timezone

from avitogw.logs import log_context
from avitogw.rows import update_held
from messenger.normalizer import event_id_for
from webhooks.backoff import backoff_delay
from webhooks.delivery import delivery_post_new
from webhooks.doorbell import bell_answer
from webhooks.intake import EVENT_PROCESSORS
from webhooks.models import EventStatus, IncomingEvent
from webhooks.wakeups import event_process_wakeup, events_drain_wakeup

logger = logging.getLogger(__name__)
Clock = Callable[[], datetime]

SHORT_RETRY = 300  # seconds; a longer wait is left to the sweep rather than to a Celery ETA
DRAIN_LIMIT = 200  # events per drain task before it hands over to a fresh one
DRAIN_FAN_OUT = 4  # drains at most at once on a backlog: about the worker slots of a small deployment
CLAIM_BATCH = 10  # events a drain claims at once: a claim costs as much as processing an event


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
    with _commits_not_waiting_for_disk():
        return _drain(fan_out=fan_out, clock=clock, rand=rand)


def _drain(*, fan_out: bool, clock: Clock, rand: Callable[[], float]) -> int:
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
            if _lease_enough(event, clock()):
                _event_run(event, clock, rand)
                done += 1
    events_drain_wakeup(fan_out=False)
    return done


@contextmanager
def _commits_not_waiting_for_disk():
    """On PostgreSQL, the drain's commits do not wait for the disk (`synchronous_commit` off).

    Whatever a drain writes can be done again from the event itself, which the webhook
    committed durably before Avito got its 200: a database crash loses at most the drain's
    last fraction of a second, and the sweep does that work again (a delivery may then be
    posted a second time, with the same webhook-id: at least once, as ever). Waiting for
    the flush was most of the drain's idle time and a sixth of PostgreSQL's CPU per event
    (docs/benchmarks.md: 256 -> 340 events/s with 2 worker processes).
    """
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO OFF")
    try:
        yield
    finally:
        try:
            with connection.cursor() as cursor:
                cursor.execute("RESET synchronous_commit")
        except DatabaseError:
            connection.close()  # a broken connection is not reused, so the setting cannot outlive the drain


def _events_claim(*, now: datetime, limit: int) -> list[IncomingEvent]:
    """Take up to `limit` due pending events at once: rows locked by another drain are skipped
    (PostgreSQL; SQLite serializes writers), and the UPDATE re-checks the status. The lease is
    two events' worth, whatever the batch's size: an event that has less than one left when
    its turn comes is renewed first (`_lease_enough`), so a drain that died holds its events
    for two leases at most, and a quick batch costs no renewals."""
    with transaction.atomic():
        due = IncomingEvent.objects.filter(status=EventStatus.PENDING, next_attempt_at__lte=now)
        events = list(due.select_for_update(skip_locked=True).order_by("pk")[:limit])
        lease_end = now + 2 * event_lease()
        claimed = due.filter(pk__in=[event.pk for event in events]).update(
            status=EventStatus.PROCESSING, attempts=F("attempts") + 1, claimed_until=lease_end)
        # Only without row locks can another drain have taken some: undo, stop; it or the sweep goes on.
        if claimed != len(events):
            transaction.set_rollback(True)
            return []
    for event in events:
        event.status, event.attempts, event.claimed_until = EventStatus.PROCESSING, event.attempts + 1, lease_end
    return events


def _lease_enough(event: IncomingEvent, now: datetime) -> bool:
    """Make sure the drain holds the event for one more lease before processing it: renewed when
    less is left (the batch's earlier events took long); False when it was lost to the sweep."""
    if event.claimed_until - now >= event_lease():
        return True
    lease_end = now + 2 * event_lease()
    renewed = IncomingEvent.objects.filter(pk=event.pk, status=EventStatus.PROCESSING,
                                           attempts=event.attempts).update(claimed_until=lease_end)
    event.claimed_until = lease_end
    return bool(renewed)


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
    """Process an event this worker has claimed, with its event id on every log line meanwhile."""
    with log_context(event_id=event_id_for(event.message_id) if event.message_id else f"event-{event.pk}"):
        return _event_work(event, clock, rand)


def _event_work(event: IncomingEvent, clock: Clock, rand: Callable[[], float]) -> IncomingEvent:
    """Process an event this worker has claimed, and record the outcome on its row."""
    processor = EVENT_PROCESSORS[event.event_type]
    try:
        prepared = processor.prepare(event)
        with transaction.atomic():
            processed = processor.store(event, prepared)
            # One commit for the rows and the outcome. An event lost meanwhile (the sweep took it
            # back: its new holder processes it) keeps none of this run's rows.
            if not _event_finish(event, status=EventStatus.PROCESSED, note=processed.note, error="",
                                 processed_at=clock()):
                transaction.set_rollback(True)
                return event
    except Exception as exc:  # noqa: BLE001 (whatever broke, the event must stay on record)
        logger.exception("Processing incoming event %s failed (attempt %s)", event.pk, event.attempts)
        _event_failed(event, exc, clock(), rand)
        return event
    if processed.delivery is not None:
        # Posted here and now, rather than by a task of its own: a Celery round trip per
        # message cost more than the POST (docs/benchmarks.md, delivery throughput).
        delivery_post_new(processed.delivery, clock=clock, rand=rand)
    return event


def _event_finish(event: IncomingEvent, **fields) -> int:
    """Update the event if this worker still holds it (the attempt number is the fence)."""
    changes = {"status": fields.pop("status"), "note": fields.pop("note", event.note)[:255],
               "last_error": fields.pop("error"), "claimed_until": None, **fields}
    return update_held(IncomingEvent, event.pk, held={"status": EventStatus.PROCESSING, "attempts": event.attempts},
                       changes=changes)


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
        status__in=[EventStatus.PROCESSING, EventStatus.UNPROCESSABLE]).update(status=EventStatus.PENDING, attempts=0, next_attempt_at=clock(),
                                              claimed_until=None)
    if updated:
        transaction.on_commit(lambda: event_process_wakeup(event_pk))
    return bool(updated)
