"""The periodic sweep (Celery beat): nothing stored is ever left behind.

Celery messages are only wake-ups, and a wake-up can be lost (broker down when the
webhook answered, a worker killed holding prefetched tasks, an ETA dropped at restart).
The sweep re-sends wake-ups from the rows: events stored but not processed, events whose
processing failed and is due again, deliveries due; and it takes back rows whose worker
died holding them (their lease ran out). A row's own claim makes a duplicate wake-up
harmless, so the sweep never needs to know what is still in flight in the broker.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import partial
from typing import Callable

from django.conf import settings
from django.db import transaction
from django.db.models import Model
from django.utils import timezone

from webhooks.models import Delivery, DeliveryStatus, EventStatus, IncomingEvent
from webhooks.wakeups import delivery_attempt_wakeup, event_process_wakeup

logger = logging.getLogger(__name__)

BATCH = 500  # wake-ups per kind per sweep; a larger backlog drains over the following sweeps
# A row that just became due has its own wake-up on the way; the sweep leaves it this long.
GRACE = timedelta(seconds=5)
LOST_WORKER = "The worker holding it stopped before finishing (lease expired)."


def _take_back(model: type[Model], *, busy: str, pending: str, failed: str, now: datetime) -> list[int]:
    """Rows whose lease ran out: pending again (due now), or failed when no attempt is left."""
    stale = model.objects.filter(status=busy, claimed_until__lt=now)
    pks = list(stale.order_by("claimed_until").values_list("pk", flat=True)[:BATCH])
    spent = stale.filter(pk__in=pks, attempts__gte=settings.N8N_FORWARD_MAX_ATTEMPTS)
    spent.update(status=failed, claimed_until=None, last_error=LOST_WORKER)
    stale.filter(pk__in=pks).update(status=pending, next_attempt_at=now, claimed_until=None, last_error=LOST_WORKER)
    return list(model.objects.filter(pk__in=pks, status=pending).values_list("pk", flat=True))


def webhooks_sweep(*, clock: Callable[[], datetime] = timezone.now) -> dict[str, int]:
    """Re-send the wake-ups of everything due; returns how many of each kind were sent."""
    now = clock()
    events = _take_back(IncomingEvent, busy=EventStatus.PROCESSING, pending=EventStatus.PENDING,
                        failed=EventStatus.FAILED, now=now)
    events += IncomingEvent.objects.filter(
        status__in=[EventStatus.PENDING, EventStatus.ERROR], next_attempt_at__lte=now - GRACE,
    ).exclude(pk__in=events).order_by("next_attempt_at").values_list("pk", flat=True)[:BATCH]
    for pk in events:
        transaction.on_commit(partial(event_process_wakeup, pk))

    deliveries = _take_back(Delivery, busy=DeliveryStatus.DELIVERING, pending=DeliveryStatus.PENDING,
                            failed=DeliveryStatus.FAILED, now=now)
    if settings.N8N_WEBHOOK_URL:  # without it, deliveries wait (untouched) until it is set
        deliveries += Delivery.objects.filter(
            status=DeliveryStatus.PENDING, next_attempt_at__lte=now - GRACE,
        ).exclude(pk__in=deliveries).order_by("next_attempt_at").values_list("pk", flat=True)[:BATCH]
        for pk in deliveries:
            transaction.on_commit(partial(delivery_attempt_wakeup, pk))
    woken = {"events": len(events), "deliveries": len(deliveries) if settings.N8N_WEBHOOK_URL else 0}
    # Every 30 s: a line only when there was something to pick up (DEBUG otherwise).
    logger.log(logging.INFO if any(woken.values()) else logging.DEBUG,
               "Sweep: woke %(events)d events and %(deliveries)d deliveries", woken)
    return woken
