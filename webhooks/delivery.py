"""Durable, signed delivery of normalized messages to N8N_WEBHOOK_URL.

A Delivery row exists for every message to deliver. Its first attempt is made by the worker
that processed the event, straight after (`delivery_create` makes the row already claimed,
`delivery_post_new` posts it). Every later one is a task: `delivery_attempt` takes a due row
with a conditional UPDATE (pending -> delivering, attempts + 1), POSTs it through the n8n
client with Standard Webhooks headers, and records the outcome: delivered, or pending again
after an exponential backoff with jitter, or failed after N8N_FORWARD_MAX_ATTEMPTS.
The attempt number fences the outcome: a worker that lost its row to the sweep (it took
too long) cannot overwrite what the next worker recorded.
"""
from __future__ import annotations

import json
import logging
import random
from datetime import datetime, timedelta
from typing import Callable

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from avitogw.errors import Conflict, NotFound
from avitogw.logs import log_context
from avitogw.metrics import n8n_delivery_counted
from avitogw.rows import insert_new, update_held
from webhooks.backoff import backoff_delay
from webhooks.models import Delivery, DeliveryStatus, IncomingEvent
from webhooks.n8n_client import N8N_CONNECT_TIMEOUT, N8N_READ_TIMEOUT, N8nClient, N8nError, get_n8n_client
from webhooks.signing import SigningSecretInvalid, signed_headers
from webhooks.voice_refresh import delivery_voice_refresh
from webhooks.wakeups import delivery_attempt_wakeup

logger = logging.getLogger(__name__)
Clock = Callable[[], datetime]

# A worker holds a row this long: one POST's connect and read timeouts, and a margin. (A read
# that trickles on past it may end in a second POST, with the same webhook-id: at-least-once.)
DELIVERY_LEASE = timedelta(seconds=N8N_CONNECT_TIMEOUT + N8N_READ_TIMEOUT + 5)
SHORT_RETRY = 300  # seconds; a longer wait is left to the sweep rather than to a Celery ETA
NO_URL = "N8N_WEBHOOK_URL is not set: kept until it is."
NEVER_ATTEMPTED = {"last_status_code": "NULL", "delivered_at": "NULL"}  # a new row's, as SQL


def delivery_create(*, event: IncomingEvent | None, payload: dict, clock: Clock = timezone.now) -> Delivery | None:
    """The delivery of one normalized message, created claimed by its creator, who posts it once
    its transaction commits (`delivery_post_new`); None when the event's delivery exists already
    (the event is processed again): that row keeps its own course.

    Created claimed, so no other worker takes it while it waits for the commit and the POST;
    if the creator dies first, the sweep takes it back when the lease runs out. Without
    N8N_WEBHOOK_URL it is created pending, and kept until the URL is set.
    """
    now = clock()
    values = {"event_id": payload["event_id"], "incoming_event": event.pk if event else None,
              "body": json.dumps(payload, ensure_ascii=False), "next_attempt_at": now, "created_at": now,
              "updated_at": now}
    if settings.N8N_WEBHOOK_URL:
        values.update(status=DeliveryStatus.DELIVERING, attempts=1, claimed_until=now + DELIVERY_LEASE,
                      last_attempt_at=now, last_error="")
    else:
        values.update(status=DeliveryStatus.PENDING, attempts=0, claimed_until=None, last_attempt_at=None,
                      last_error=NO_URL)
    pk = insert_new(Delivery, values, key="event_id", constants=NEVER_ATTEMPTED)
    if pk is None:
        return None
    return Delivery(pk=pk, incoming_event=event, **{k: v for k, v in values.items() if k != "incoming_event"})


def delivery_post_new(delivery: Delivery, *, client: N8nClient | None = None, clock: Clock = timezone.now,
                      rand: Callable[[], float] = random.random) -> None:
    """The first attempt of a delivery `delivery_create` made, after its commit."""
    if delivery.status == DeliveryStatus.DELIVERING:
        _post(delivery, client=client, clock=clock, rand=rand)


def delivery_attempt(*, delivery_pk: int, client: N8nClient | None = None, clock: Clock = timezone.now,
                     rand: Callable[[], float] = random.random) -> Delivery | None:
    """One attempt if the delivery is due and free; None when there was nothing for this worker."""
    if not settings.N8N_WEBHOOK_URL:
        Delivery.objects.filter(pk=delivery_pk, status=DeliveryStatus.PENDING).update(last_error=NO_URL)
        return None
    now = clock()
    # Before the claim: a call to Avito must not eat into the lease of the POST.
    delivery_voice_refresh(delivery_pk=delivery_pk, now=now)
    claimed = Delivery.objects.filter(
        pk=delivery_pk, status=DeliveryStatus.PENDING, next_attempt_at__lte=now,
    ).update(status=DeliveryStatus.DELIVERING, attempts=F("attempts") + 1, claimed_until=now + DELIVERY_LEASE,
             last_attempt_at=now, updated_at=now)
    if not claimed:
        return None
    # With the event's arrival, for the delivery lag (avitogw_n8n_delivery_lag_seconds).
    delivery = Delivery.objects.annotate(received_at=F("incoming_event__received_at")).get(pk=delivery_pk)
    _post(delivery, client=client, clock=clock, rand=rand)
    delivery.refresh_from_db()
    return delivery


def _post(delivery: Delivery, *, client: N8nClient | None, clock: Clock, rand: Callable[[], float]) -> None:
    """POST a delivery this worker holds, with its event id (= webhook-id) on every log line meanwhile."""
    with log_context(event_id=delivery.event_id):
        _post_logged(delivery, client=client, clock=clock, rand=rand)


def _post_logged(delivery: Delivery, *, client: N8nClient | None, clock: Clock, rand: Callable[[], float]) -> None:
    """POST a delivery this worker holds, and record the outcome on its row."""
    body = delivery.body.encode("utf-8")
    try:
        # The timestamp is this attempt's; the id stays the event's, so n8n can deduplicate.
        headers = signed_headers(msg_id=delivery.event_id, payload=body,
                                 secret=settings.N8N_WEBHOOK_SECRET or None, timestamp=delivery.last_attempt_at)
        status_code = (client or get_n8n_client()).post(settings.N8N_WEBHOOK_URL, body=body, headers=headers)
    except N8nError as exc:
        _attempt_failed(delivery, exc.message, exc.status_code, clock(), rand)
    except SigningSecretInvalid as exc:
        _attempt_failed(delivery, f"N8N_WEBHOOK_SECRET: {exc}", None, clock(), rand)
    else:
        done = clock()
        if _attempt_finish(delivery, status=DeliveryStatus.DELIVERED, delivered_at=done,
                           last_status_code=status_code, last_error="", updated_at=done):
            n8n_delivery_counted("delivered", attempt=delivery.attempts,
                                 lag_seconds=(done - _received_at(delivery)).total_seconds())


def _received_at(delivery: Delivery) -> datetime:
    """When Avito's notification came: the event's time (annotated, or the event already loaded), else
    when the delivery was made (a delivery without an event: the event row was deleted)."""
    received = getattr(delivery, "received_at", None)
    if received is None and delivery.incoming_event_id and Delivery.incoming_event.is_cached(delivery):
        received = delivery.incoming_event.received_at
    return received or delivery.created_at


def _attempt_finish(delivery: Delivery, **changes) -> int:
    """Record the attempt's outcome if this worker still holds the delivery (the attempt number is the fence)."""
    return update_held(Delivery, delivery.pk, held={"status": DeliveryStatus.DELIVERING, "attempts": delivery.attempts},
                       changes={"claimed_until": None, **changes})


def _attempt_failed(delivery: Delivery, error: str, status_code: int | None, now: datetime,
                    rand: Callable[[], float]) -> None:
    logger.warning("Delivery %s attempt %s failed: %s", delivery.event_id, delivery.attempts, error)
    common = {"last_error": error[:2000], "last_status_code": status_code, "updated_at": now}
    if delivery.attempts >= settings.N8N_FORWARD_MAX_ATTEMPTS:
        if _attempt_finish(delivery, status=DeliveryStatus.FAILED, **common):
            n8n_delivery_counted("failed")
        return
    n8n_delivery_counted("retry")
    delay = backoff_delay(attempt=delivery.attempts, base=settings.N8N_FORWARD_BACKOFF_BASE,
                          cap=settings.N8N_FORWARD_BACKOFF_MAX, rand=rand)
    if _attempt_finish(delivery, status=DeliveryStatus.PENDING, next_attempt_at=now + timedelta(seconds=delay),
                       **common) and delay <= SHORT_RETRY:
        transaction.on_commit(lambda: delivery_attempt_wakeup(delivery.pk, countdown=delay))


def delivery_replay(*, delivery_pk: int, clock: Clock = timezone.now) -> Delivery:
    """Queue a delivery again, whatever became of it, with its full budget of attempts."""
    now = clock()
    with transaction.atomic():
        replayed = Delivery.objects.filter(pk=delivery_pk).exclude(status=DeliveryStatus.DELIVERING).update(
            status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=now, claimed_until=None, updated_at=now)
        if not replayed:
            if Delivery.objects.filter(pk=delivery_pk).exists():
                raise Conflict("This delivery is being posted right now; replay it once the attempt is over.",
                               code="delivery_in_progress")
            raise NotFound(f"No delivery with id {delivery_pk}.")
        transaction.on_commit(lambda: delivery_attempt_wakeup(delivery_pk))
    return Delivery.objects.get(pk=delivery_pk)
