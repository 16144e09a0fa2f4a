"""The worker's side of incoming events: the drain processes what webhooks.intake stored.

`events_drain` leases the due events a batch at a time (one claim, core.work.leases)
and keeps the leases alive with the heartbeat while it works. For each batch it:

1. prepares every event (Avito look-ups, outside any transaction);
2. stores them all in one transaction: the events' outcome (fenced on the lease), their
   message rows and their deliveries, created leased to the same claim (one commit and a
   few statements per batch, not per event; if one event fails, the batch is stored again
   one event at a time, and the failure is recorded on that event's row with the engine's
   backoff);
3. posts the batch's deliveries to n8n side by side (webhooks.delivery).

On a backlog the first drain wakes a few more, so every worker process drains beside it.
Dispatch is by event type (webhooks.event_types).
"""
from __future__ import annotations

import logging
import random
import time
from datetime import datetime, timedelta
from typing import Any, Callable

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from core.work.backoff import backoff_delay
from core.work.heartbeat import HEARTBEAT
from core.work.leases import FREE, LOST_WORKER, Clock, lease_claim, lease_finish, lease_owner_new, leases_finish
from core.work.sweep import Work
from core.work.wakeups import SHORT_RETRY, wake, woken
from webhooks.delivery import deliveries_post
from webhooks.event_types import EVENT_PROCESSORS
from webhooks.models import Delivery, EventStatus, IncomingEvent
from webhooks.task_names import EVENTS_DRAIN

logger = logging.getLogger(__name__)

CLAIM_BATCH = 50  # events per claim, per commit and per round of POSTs
DRAIN_LIMIT = 2000  # events per drain task before it hands over to a fresh one
DRAIN_SECONDS = 60.0  # ... or seconds (well inside Celery's time limit)
DRAIN_FAN_OUT = 4  # drains at most at once on a backlog: about the worker slots of a small deployment


def events_drain(*, fan_out: bool = True, clock: Clock = timezone.now, rand: Callable[[], float] = random.random,
                 timer: Callable[[], float] = time.monotonic) -> int:
    """Process due events, oldest first, a leased batch at a time; returns how many it processed.

    When it finds a backlog (a full batch) it wakes DRAIN_FAN_OUT - 1 more drains, once, so
    that several worker processes drain side by side; those (fan_out=False) do not fan out
    again. After DRAIN_LIMIT events or DRAIN_SECONDS it hands over to a new drain, so a long
    burst does not hold one worker slot for ever.
    """
    woken(EVENTS_DRAIN)  # before the first claim: an event committed from now on wakes another drain
    done, started = 0, timer()
    while done < DRAIN_LIMIT and timer() - started < DRAIN_SECONDS:
        owner = lease_owner_new()
        with HEARTBEAT.holding(owner, IncomingEvent, Delivery):
            events = _events_claim(owner=owner, now=clock(), limit=CLAIM_BATCH)
            if not events:
                return done
            if fan_out and len(events) == CLAIM_BATCH:
                fan_out = False
                for _ in range(DRAIN_FAN_OUT - 1):
                    wake(EVENTS_DRAIN, False)
            deliveries = _events_run(events, owner=owner, clock=clock, rand=rand)
            deliveries_post(deliveries, owner=owner, clock=clock, rand=rand)
        done += len(events)
    wake(EVENTS_DRAIN, False)
    return done


def _events_claim(*, owner: str, now: datetime, limit: int) -> list[IncomingEvent]:
    """Lease up to `limit` due events at once. Rows locked by another drain's claim are skipped
    (PostgreSQL; SQLite serializes writers), and the UPDATE re-checks that they are free."""
    with transaction.atomic():
        due = _events_due(now)
        pks = list(due.select_for_update(skip_locked=True).order_by("pk").values_list("pk", flat=True)[:limit])
        if not pks:
            return []
        lease_claim(due.filter(pk__in=pks), owner=owner, now=now, status=EventStatus.PROCESSING,
                    attempts=F("attempts") + 1)
    return list(IncomingEvent.objects.filter(lease_owner=owner).order_by("pk"))


def _events_run(events: list[IncomingEvent], *, owner: str, clock: Clock, rand: Callable[[], float]) -> list:
    """Prepare and store a leased batch; the deliveries it created, for the drain to post."""
    ready: list[tuple[IncomingEvent, Any]] = []
    for event_type in dict.fromkeys(event.event_type for event in events):
        batch = [event for event in events if event.event_type == event_type]
        for event, work in zip(batch, EVENT_PROCESSORS[event_type].prepare(batch)):
            if isinstance(work, Exception):
                _event_failed(event, work, owner=owner, now=clock(), rand=rand)
            else:
                ready.append((event, work))
    try:
        with transaction.atomic():
            return _events_store(ready, owner=owner, now=clock())
    except Exception:  # noqa: BLE001 (an event broke the batch, or one was lost: one by one, to find it)
        logger.warning("Storing a batch of %s events failed; storing them one at a time", len(ready), exc_info=True)
    deliveries = []
    for event, work in ready:
        try:
            with transaction.atomic():
                deliveries += _events_store([(event, work)], owner=owner, now=clock())
        except _LeaseLost:
            continue  # the sweep took it back: its new holder processes it, this run keeps nothing
        except Exception as exc:  # noqa: BLE001
            _event_failed(event, exc, owner=owner, now=clock(), rand=rand)
    return deliveries


class _LeaseLost(Exception):
    """An event of the batch is no longer this claim's."""


def _events_store(ready: list[tuple[IncomingEvent, Any]], *, owner: str, now: datetime) -> list[Delivery]:
    """In the caller's transaction: the events' outcome and their rows, committed together. The
    outcome comes first, fenced on the lease: if any event was taken back, nothing is kept."""
    if not ready:
        return []
    if leases_finish(IncomingEvent, [event.pk for event, _ in ready], owner=owner, status=EventStatus.PROCESSED,
                     last_error="", processed_at=now) != len(ready):
        raise _LeaseLost
    deliveries = []
    for event_type in dict.fromkeys(event.event_type for event, _ in ready):
        batch = [(event, work) for event, work in ready if event.event_type == event_type]
        processed = EVENT_PROCESSORS[event_type].store([e for e, _ in batch], [w for _, w in batch], owner)
        for (event, _), (note, delivery) in zip(batch, processed):
            if note:
                IncomingEvent.objects.filter(pk=event.pk).update(note=note[:255])
            if delivery is not None:
                deliveries.append(delivery)
    return deliveries


def _event_failed(event: IncomingEvent, exc: Exception, *, owner: str, now: datetime,
                  rand: Callable[[], float]) -> None:
    logger.error("Processing incoming event %s failed (attempt %s)", event.pk, event.attempts,
                 exc_info=(type(exc), exc, exc.__traceback__))
    error = f"{type(exc).__name__}: {exc}"[:2000]
    if event.attempts >= settings.EVENT_MAX_ATTEMPTS:
        lease_finish(IncomingEvent, event.pk, owner=owner, status=EventStatus.FAILED, last_error=error)
        return
    delay = backoff_delay(attempt=event.attempts, base=settings.EVENT_BACKOFF_BASE,
                          cap=settings.EVENT_BACKOFF_MAX, rand=rand)
    if lease_finish(IncomingEvent, event.pk, owner=owner, status=EventStatus.ERROR, last_error=error,
                    next_attempt_at=now + timedelta(seconds=delay)) and delay <= SHORT_RETRY:
        wake(EVENTS_DRAIN, False, countdown=delay)


def event_reprocess(*, event_pk: int, clock: Clock = timezone.now) -> bool:
    """Staff asked to process an event again (a delivery that exists already is not duplicated)."""
    updated = IncomingEvent.objects.filter(pk=event_pk, message_id__isnull=False, lease_owner=FREE).exclude(
        status__in=[EventStatus.PROCESSING, EventStatus.UNPROCESSABLE]).update(status=EventStatus.PENDING, attempts=0, next_attempt_at=clock())
    if updated:
        wake(EVENTS_DRAIN)
    return bool(updated)


def _events_due(now: datetime):
    return IncomingEvent.objects.filter(status__in=[EventStatus.PENDING, EventStatus.ERROR],
                                        next_attempt_at__lte=now, lease_owner=FREE)


def _events_taken_back(now: datetime) -> list:
    return [(Q(attempts__gte=settings.EVENT_MAX_ATTEMPTS), {"status": EventStatus.FAILED,
                                                                   "last_error": LOST_WORKER}),
            (Q(), {"status": EventStatus.PENDING, "next_attempt_at": now, "last_error": LOST_WORKER})]


EVENTS = Work(name="events", model=IncomingEvent, task=EVENTS_DRAIN, due=_events_due, drain=True,
              taken_back=_events_taken_back)
