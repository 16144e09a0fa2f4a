"""Durable, signed delivery of normalized messages to N8N_WEBHOOK_URL.

A Delivery row exists for every message to deliver. Its first attempt is made by the drain
that processed the event: `deliveries_create` makes the rows already leased to the drain's
claim, and `deliveries_post` POSTs them POSTERS at a time side by side (a small thread
pool: the POSTs are waits on n8n), recording each round's outcomes in one transaction. Every later
attempt is a task, `delivery_attempt`, which leases one due row. An outcome is recorded
only over the lease it was made under (core.work.leases): delivered, or pending again
after the engine's backoff, or failed after N8N_FORWARD_MAX_ATTEMPTS. A row whose worker
died is taken back by the sweep when its lease runs out and posted again with the same
webhook-id: at least once, and n8n can deduplicate.
"""
from __future__ import annotations

import json
import logging
import random
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from core.errors import Conflict, NotFound
from core.logs import log_context
from core.metrics import n8n_delivery_counted
from core.n8n.client import N8nClient, N8nError, get_n8n_client
from core.n8n.signing import SigningSecretInvalid, signed_headers
from core.singleton import PerProcess
from core.work.backoff import backoff_delay
from core.work.heartbeat import HEARTBEAT
from core.work.leases import (FREE, LEASE, LOST_WORKER, Clock, lease_claim, lease_finish, lease_owner_new,
                              leases_finish)
from core.work.sweep import Work
from core.work.wakeups import SHORT_RETRY, wake
from webhooks.models import Delivery, DeliveryStatus, IncomingEvent
from webhooks.voice_refresh import delivery_voice_refresh
from webhooks.task_names import DELIVERY_ATTEMPT

logger = logging.getLogger(__name__)

NO_URL = "N8N_WEBHOOK_URL is not set: kept until it is."
POSTERS = 8  # POSTs in flight at once per process: n8n answers in milliseconds, the rest is waiting


@dataclass(frozen=True)
class PostResult:
    status_code: int | None
    error: str = ""  # empty when n8n answered 2xx


def deliveries_create(*, events: list[IncomingEvent], payloads: list[dict], owner: str,
                      clock: Clock = timezone.now) -> dict[int, Delivery]:
    """The deliveries of normalized messages (one per event, in one INSERT), leased to `owner` (the
    drain), who posts them once its transaction commits; by event id. An event whose delivery
    exists already (it is processed again) gets none: that row keeps its own course. Without
    N8N_WEBHOOK_URL they are created pending, and kept until the URL is set."""
    existing = set(Delivery.objects.filter(event_id__in=[p["event_id"] for p in payloads])
                   .values_list("event_id", flat=True))
    now = clock()
    if settings.N8N_WEBHOOK_URL:
        state = {"status": DeliveryStatus.DELIVERING, "attempts": 1, "last_attempt_at": now, "lease_owner": owner,
                 "lease_expires": now + LEASE}
    else:
        state = {"status": DeliveryStatus.PENDING, "last_error": NO_URL}
    rows = [Delivery(event_id=payload["event_id"], incoming_event=event, next_attempt_at=now,
                     body=json.dumps(payload, ensure_ascii=False), **state)
            for event, payload in zip(events, payloads) if payload["event_id"] not in existing]
    Delivery.objects.bulk_create(rows)
    return {row.incoming_event_id: row for row in rows}


def deliveries_post(deliveries: list[Delivery], *, owner: str, client: N8nClient | None = None,
                    clock: Clock = timezone.now, rand: Callable[[], float] = random.random) -> None:
    """POST the deliveries `owner` holds, POSTERS at a time side by side, recording each round's
    outcomes in one transaction: a worker that dies leaves at most one round posted and unrecorded
    (posted again after its lease, with the same webhook-id)."""
    held = [delivery for delivery in deliveries if delivery.status == DeliveryStatus.DELIVERING]
    client = client or get_n8n_client()
    for start in range(0, len(held), POSTERS):
        round_ = held[start:start + POSTERS]
        if len(round_) == 1:
            results = [_post(round_[0], client)]
        else:
            results = list(_posters().map(lambda delivery: _post(delivery, client), round_))
        _outcomes_record(round_, results, owner=owner, now=clock(), rand=rand)


def _outcomes_record(deliveries: list[Delivery], results: list[PostResult], *, owner: str, now: datetime,
                     rand: Callable[[], float]) -> None:
    delivered: dict[int | None, list[int]] = {}  # by status code: one UPDATE for each
    with transaction.atomic():
        for delivery, result in zip(deliveries, results):
            if result.error:
                _failed(delivery, result, owner=owner, now=now, rand=rand)
            else:
                delivered.setdefault(result.status_code, []).append(delivery.pk)
        for status_code, pks in delivered.items():
            leases_finish(Delivery, pks, owner=owner, status=DeliveryStatus.DELIVERED, delivered_at=now,
                          last_status_code=status_code, last_error="", updated_at=now)
    for delivery, result in zip(deliveries, results):
        if not result.error:
            n8n_delivery_counted("delivered", attempt=delivery.attempts,
                                 lag_seconds=(now - _received_at(delivery)).total_seconds())


def delivery_attempt(*, delivery_pk: int, client: N8nClient | None = None, clock: Clock = timezone.now,
                     rand: Callable[[], float] = random.random) -> Delivery | None:
    """One attempt if the delivery is due and free; None when there was nothing for this worker."""
    if not settings.N8N_WEBHOOK_URL:
        Delivery.objects.filter(pk=delivery_pk, status=DeliveryStatus.PENDING).update(last_error=NO_URL)
        return None
    now = clock()
    # Before the claim: a call to Avito must not eat into the lease of the POST.
    delivery_voice_refresh(delivery_pk=delivery_pk, now=now)
    owner = lease_owner_new()
    due = Delivery.objects.filter(pk=delivery_pk, status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
    if not lease_claim(due, owner=owner, now=now, status=DeliveryStatus.DELIVERING, attempts=F("attempts") + 1,
                       last_attempt_at=now, updated_at=now):
        return None
    # With the event's arrival, for the delivery lag (avitogw_n8n_delivery_lag_seconds).
    delivery = Delivery.objects.annotate(received_at=F("incoming_event__received_at")).get(pk=delivery_pk)
    with HEARTBEAT.holding(owner, Delivery):
        deliveries_post([delivery], owner=owner, client=client, clock=clock, rand=rand)
    delivery.refresh_from_db()
    return delivery


def _post(delivery: Delivery, client: N8nClient) -> PostResult:
    """One signed POST (in a poster thread: no database here), with its event id (= webhook-id) on
    every log line meanwhile."""
    with log_context(event_id=delivery.event_id):
        return _post_signed(delivery, client)


def _post_signed(delivery: Delivery, client: N8nClient) -> PostResult:
    body = delivery.body.encode("utf-8")
    try:
        # The timestamp is this attempt's; the id stays the event's, so n8n can deduplicate.
        headers = signed_headers(msg_id=delivery.event_id, payload=body,
                                 secret=settings.N8N_WEBHOOK_SECRET or None, timestamp=delivery.last_attempt_at)
        return PostResult(client.post(settings.N8N_WEBHOOK_URL, body=body, headers=headers))
    except N8nError as exc:
        return PostResult(exc.status_code, exc.message)
    except SigningSecretInvalid as exc:
        return PostResult(None, f"N8N_WEBHOOK_SECRET: {exc}")


def _received_at(delivery: Delivery) -> datetime:
    """When Avito's notification came: the event's time (annotated, or the event already loaded), else
    when the delivery was made (a delivery without an event: the event row was deleted)."""
    received = getattr(delivery, "received_at", None)
    if received is None and delivery.incoming_event_id and Delivery.incoming_event.is_cached(delivery):
        received = delivery.incoming_event.received_at
    return received or delivery.created_at


def _failed(delivery: Delivery, result: PostResult, *, owner: str, now: datetime,
            rand: Callable[[], float]) -> None:
    """A failed attempt's outcome, over `owner`'s lease only (a lost lease records nothing)."""
    with log_context(event_id=delivery.event_id):
        logger.warning("Delivery %s attempt %s failed: %s", delivery.event_id, delivery.attempts, result.error)
    common = {"last_error": result.error[:2000], "last_status_code": result.status_code, "updated_at": now}
    if delivery.attempts >= settings.N8N_FORWARD_MAX_ATTEMPTS:
        if lease_finish(Delivery, delivery.pk, owner=owner, status=DeliveryStatus.FAILED, **common):
            n8n_delivery_counted("failed")
        return
    n8n_delivery_counted("retry")
    delay = backoff_delay(attempt=delivery.attempts, base=settings.N8N_FORWARD_BACKOFF_BASE,
                          cap=settings.N8N_FORWARD_BACKOFF_MAX, rand=rand)
    if lease_finish(Delivery, delivery.pk, owner=owner, status=DeliveryStatus.PENDING,
                    next_attempt_at=now + timedelta(seconds=delay), **common) and delay <= SHORT_RETRY:
        wake(DELIVERY_ATTEMPT, delivery.pk, countdown=delay)


# This process's poster threads (new after a fork: threads do not survive one).
_pool: PerProcess[ThreadPoolExecutor] = PerProcess(lambda: ThreadPoolExecutor(POSTERS, thread_name_prefix="avitogw-n8n"))


def _posters() -> ThreadPoolExecutor:
    return _pool.get()


def delivery_replay(*, delivery_pk: int, clock: Clock = timezone.now) -> Delivery:
    """Queue a delivery again, whatever became of it, with its full budget of attempts."""
    now = clock()
    with transaction.atomic():
        replayed = Delivery.objects.filter(pk=delivery_pk).exclude(status=DeliveryStatus.DELIVERING).update(
            status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=now, updated_at=now)
        if not replayed:
            if Delivery.objects.filter(pk=delivery_pk).exists():
                raise Conflict("This delivery is being posted right now; replay it once the attempt is over.",
                               code="delivery_in_progress")
            raise NotFound(f"No delivery with id {delivery_pk}.")
        wake(DELIVERY_ATTEMPT, delivery_pk)
    return Delivery.objects.get(pk=delivery_pk)


def _deliveries_due(now: datetime):
    if not settings.N8N_WEBHOOK_URL:  # without it, deliveries wait (untouched) until it is set
        return Delivery.objects.none()
    return Delivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now, lease_owner=FREE)


def _deliveries_taken_back(now: datetime) -> list:
    lost = {"last_error": LOST_WORKER, "updated_at": now}
    return [(Q(attempts__gte=settings.N8N_FORWARD_MAX_ATTEMPTS), {"status": DeliveryStatus.FAILED, **lost}),
            (Q(), {"status": DeliveryStatus.PENDING, "next_attempt_at": now, **lost})]


DELIVERIES = Work(name="deliveries", model=Delivery, task=DELIVERY_ATTEMPT, due=_deliveries_due,
                  taken_back=_deliveries_taken_back)
