"""Durable, signed delivery of normalized messages to N8N_WEBHOOK_URL.

A Delivery row exists for every message to deliver. `delivery_attempt` takes a due row
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

from avitogw.exception_handler import ApiError
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


def delivery_create(*, event: IncomingEvent | None, payload: dict, clock: Clock = timezone.now) -> Delivery:
    """The delivery of one normalized message (one per event id, however often it is processed)."""
    body = json.dumps(payload, ensure_ascii=False)
    delivery, created = Delivery.objects.get_or_create(
        event_id=payload["event_id"], defaults={"incoming_event": event, "body": body, "next_attempt_at": clock()},
    )
    if created and settings.N8N_WEBHOOK_URL:
        transaction.on_commit(lambda: delivery_attempt_wakeup(delivery.pk))
    return delivery


def delivery_attempt(*, delivery_pk: int, client: N8nClient | None = None, clock: Clock = timezone.now,
                     rand: Callable[[], float] = random.random) -> Delivery | None:
    """One attempt if the delivery is due and free; None when there was nothing for this worker."""
    url = settings.N8N_WEBHOOK_URL
    if not url:
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
    delivery = Delivery.objects.get(pk=delivery_pk)
    body = delivery.body.encode("utf-8")
    try:
        # The timestamp is this attempt's; the id stays the event's, so n8n can deduplicate.
        headers = signed_headers(msg_id=delivery.event_id, payload=body,
                                 secret=settings.N8N_WEBHOOK_SECRET or None, timestamp=now)
        status_code = (client or get_n8n_client()).post(url, body=body, headers=headers)
    except N8nError as exc:
        _attempt_failed(delivery, exc.message, exc.status_code, clock(), rand)
    except SigningSecretInvalid as exc:
        _attempt_failed(delivery, f"N8N_WEBHOOK_SECRET: {exc}", None, clock(), rand)
    else:
        done = clock()
        _attempt_finish(delivery, status=DeliveryStatus.DELIVERED, delivered_at=done, last_status_code=status_code,
                        last_error="", updated_at=done)
    delivery.refresh_from_db()
    return delivery


def _attempt_finish(delivery: Delivery, **changes) -> int:
    return Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.DELIVERING,
                                   attempts=delivery.attempts).update(claimed_until=None, **changes)


def _attempt_failed(delivery: Delivery, error: str, status_code: int | None, now: datetime,
                    rand: Callable[[], float]) -> None:
    logger.warning("Delivery %s attempt %s failed: %s", delivery.event_id, delivery.attempts, error)
    common = {"last_error": error[:2000], "last_status_code": status_code, "updated_at": now}
    if delivery.attempts >= settings.N8N_FORWARD_MAX_ATTEMPTS:
        _attempt_finish(delivery, status=DeliveryStatus.FAILED, **common)
        return
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
                raise ApiError(409, "delivery_in_progress",
                               "This delivery is being posted right now; replay it once the attempt is over.")
            raise ApiError(404, "not_found", f"No delivery with id {delivery_pk}.")
        transaction.on_commit(lambda: delivery_attempt_wakeup(delivery_pk))
    return Delivery.objects.get(pk=delivery_pk)
