"""Sending one bulk item exactly once: claim the row, send through the single-send services, record.

Only the worker whose conditional UPDATE moved the item from `pending` to `sending` sends
it. What happens next depends on what the failure, if any, says about Avito:

- sent: the message id is recorded;
- refused for good (Avito rejected it, a bad image URL): `failed` with the reason;
- certainly not sent (no rate-limit slot, Avito's 429): `pending` again, retried later;
- reached Avito but the answer was lost (a read timeout, a 5xx, a dropped connection) and
  the message did not show up in the chat during the client's settle window
  (`OutcomeUnknown`): `unknown`. `bulk_item_resolve` looks in the chat again until
  `settle_by` (one more CONNECTION_TIMEOUT): found -> sent; still absent -> `failed` with
  a clear reason. It is never sent again by the gateway (docs/avito-client.md);
- anything else (Avito unreachable before the send, a crash): the item stays `sending`
  until `bulk_item_resolve` has looked for it among the chat's newest messages. Found:
  sent. Not found: pending again (by then its attempt can no longer land). Never a resend
  on a guess.

The claim is a lease (core.work): the sender's heartbeat keeps it while the send runs,
however long Avito takes. A worker killed mid-send stops renewing it; the sweep takes the
item back when the lease runs out (within about a minute) and wakes the resolver, which
leases the item in turn before it looks. Every outcome is written over its own lease.
"""
from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from core.errors import GatewayError, OutcomeUnknown, details_text
from core.logs import log_context_add
from core.work.backoff import backoff_delay
from core.work.heartbeat import HEARTBEAT
from core.work.leases import FREE, lease_claim, lease_held, lease_owner_new
from core.work.sweep import Work
from core.work.wakeups import wake
from bulk.models import BulkItem, BulkItemStatus, BulkJob, BulkJobStatus
from bulk.services import bulk_items_wake, bulk_job_finish_if_done, send_time_limit
from bulk.task_names import BULK_ITEM_RESOLVE, BULK_ITEM_SEND
from messenger.avito import errors as avito
from messenger.avito import get_client
from messenger.services import messages
from messenger.storage import message_upsert

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5   # tries of one item (rate-limit waits do not count) before it is `failed`
EARLY_TOLERANCE = timedelta(seconds=1)  # a wake-up may arrive a little before its row is due
CHECK_PAUSE_MAX = 60.0  # seconds between checks while Avito cannot be asked
RETRY_PAUSE_MAX = 300.0  # seconds, the longest pause before an item's next try
UNSETTLED = (BulkItemStatus.SENDING, BulkItemStatus.UNKNOWN)
UNKNOWN_PREFIX = "outcome unknown, looking for it in the chat: "


def settle_window() -> float:
    """How long an `unknown` item is looked for in the chat before it is failed: one more CONNECTION_TIMEOUT."""
    return float(settings.CONNECTION_TIMEOUT)


@dataclass(frozen=True)
class Outcome:
    status: str                # sent, failed, pending (certainly not sent) or sending (unknown)
    message_id: str = ""
    error: str = ""
    retry_in: float = 0.0
    counts_as_attempt: bool = True


def bulk_item_send(*, item_id: int, clock: Callable[[], datetime] = timezone.now) -> str | None:
    """Claim and send one pending item; returns its new status, or None if it was not ours to send."""
    now = clock()
    owner = lease_owner_new()
    claimable = (BulkItem.objects.filter(id=item_id, status=BulkItemStatus.PENDING)
                 .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now + EARLY_TOLERANCE))
                 .exclude(job__status=BulkJobStatus.CANCELLED))
    if lease_claim(claimable, owner=owner, now=now, status=BulkItemStatus.SENDING, claimed_at=now,
                   attempts=F("attempts") + 1, next_attempt_at=None) != 1:
        return None
    item = BulkItem.objects.get(id=item_id)
    log_context_add(job_id=item.job_id)  # for the rest of the task (avitogw.celery resets it)
    BulkJob.objects.filter(id=item.job_id, status=BulkJobStatus.QUEUED).update(status=BulkJobStatus.RUNNING)
    with HEARTBEAT.holding(owner, BulkItem):
        try:
            outcome = Outcome(BulkItemStatus.SENT, message_id=str(_dispatch(item).get("message_id") or ""))
        except Exception as exc:  # noqa: BLE001 - every failure is classified below, none is lost
            outcome = _classify(exc)
        return _record(item, owner=owner, outcome=outcome, now=clock())


def bulk_item_resolve(*, item_id: int, clock: Callable[[], datetime] = timezone.now) -> str | None:
    """Settle a `sending` or `unknown` item whose send may or may not have reached Avito, by asking Avito."""
    now = clock()
    owner = lease_owner_new()
    unsettled = BulkItem.objects.filter(id=item_id, status__in=UNSETTLED)
    if lease_claim(unsettled, owner=owner, now=now) != 1:
        return None  # already settled, or being sent or checked right now
    item = BulkItem.objects.get(id=item_id)
    log_context_add(job_id=item.job_id)
    with HEARTBEAT.holding(owner, BulkItem):
        return _resolve(item, owner=owner, clock=clock)


def _resolve(item: BulkItem, *, owner: str, clock: Callable[[], datetime]) -> str:
    claimed_at = item.claimed_at or clock()
    known = BulkItem.objects.filter(chat_id=item.chat_id, status=BulkItemStatus.SENT,
                                    finished_at__gte=claimed_at - timedelta(minutes=1)).exclude(message_id="")
    try:
        found = get_client().find_recent_outgoing(
            item.chat_id, since=claimed_at.timestamp(), text=_sent_text(item),
            kind="image" if item.kind == "image" else "text",
            exclude=set(known.values_list("message_id", flat=True)))
    except avito.AvitoError as exc:
        # Look again after as long again as the item has been unsettled: the pauses double
        # while Avito stays down, up to CHECK_PAUSE_MAX.
        now = clock()
        delay = min(CHECK_PAUSE_MAX, max(1.0, (now - claimed_at).total_seconds()))
        logger.warning("Could not check bulk item %s against Avito (%s); looking again in %.0f s",
                       item.id, exc, delay)
        return _look_again(item, owner=owner, delay=delay, now=now)
    now = clock()
    if found:
        message_upsert(found, chat_id=item.chat_id, account_user_id=settings.AVITO_USER_ID)
        outcome = Outcome(BulkItemStatus.SENT, message_id=str(found["id"]))
    elif item.status == BulkItemStatus.UNKNOWN and item.settle_by and now < item.settle_by:
        # Avito may still be storing it: look again, at most every quarter of the window.
        pause = max(1.0, settle_window() / 4)
        return _look_again(item, owner=owner, now=now,
                           delay=max(0.0, min(pause, (item.settle_by - now).total_seconds())))
    elif item.status == BulkItemStatus.UNKNOWN:
        cause = item.error.removeprefix(UNKNOWN_PREFIX)
        outcome = Outcome(BulkItemStatus.FAILED, error=(
            f"not delivered: Avito did not confirm the send ({cause}) and the message was still not in the chat "
            f"{settle_window():g} s later; the gateway does not send it again on its own. Check the chat "
            f"and send it again if it is still wanted."))
    else:
        outcome = Outcome(BulkItemStatus.PENDING, error=item.error)
    return _record(item, owner=owner, outcome=outcome, now=now)


def _look_again(item: BulkItem, *, owner: str, delay: float, now: datetime) -> str:
    """Leave the item unsettled, free its lease, and wake the resolver again in `delay` seconds."""
    if lease_held(BulkItem, item.id, owner=owner).update(
            next_attempt_at=now + timedelta(seconds=delay), lease_owner=FREE, lease_expires=None):
        wake(BULK_ITEM_RESOLVE, item.id, countdown=delay, time_limit=send_time_limit())
    return item.status


def _dispatch(item: BulkItem) -> dict:
    """The same services the single-send endpoints call, so a bulk item is sent exactly like one."""
    payload = item.payload
    if item.kind == "image":
        return messages.message_send_image(chat_id=item.chat_id, image_id=payload.get("image_id"),
                                           image_url=payload.get("image_url"))
    if item.kind == "link":
        return messages.message_send_link(chat_id=item.chat_id, url=payload["url"], text=payload.get("text"))
    return messages.message_send_text(chat_id=item.chat_id, text=payload["text"])


def _sent_text(item: BulkItem) -> str | None:
    """The exact text Avito holds if this item was sent (images carry none)."""
    if item.kind == "image":
        return None
    if item.kind == "link":
        return messages.link_message_text(url=item.payload["url"], text=item.payload.get("text"))
    return item.payload["text"]


def _classify(exc: Exception) -> Outcome:
    if isinstance(exc, OutcomeUnknown):
        return Outcome(BulkItemStatus.UNKNOWN, error=UNKNOWN_PREFIX + str((exc.details or {}).get("cause", exc.message)))
    if isinstance(exc, avito.AvitoRateLimited):
        # No slot, or Avito's own 429: the message was not accepted. Only Avito's refusal counts.
        delay = exc.retry_after or settings.RATE_LIMIT_WINDOW
        return Outcome(BulkItemStatus.PENDING, error=exc.message, retry_in=delay,
                       counts_as_attempt=exc.status == 429)
    if isinstance(exc, avito.AvitoError) and not exc.transient:
        return Outcome(BulkItemStatus.FAILED, error=exc.message)
    if isinstance(exc, GatewayError) and exc.status < 500:
        return Outcome(BulkItemStatus.FAILED, error=details_text(exc.details) or exc.message)
    if not isinstance(exc, (avito.AvitoError, GatewayError)):
        logger.exception("Bulk send failed unexpectedly; checking Avito before any resend")
    message = getattr(exc, "message", None) or str(exc) or exc.__class__.__name__
    return Outcome(BulkItemStatus.SENDING, error=f"not confirmed, checking Avito: {message}")


def _record(item: BulkItem, *, owner: str, outcome: Outcome, now: datetime) -> str:
    """Write the outcome and free the item, but only over our own lease (the fence)."""
    ours = lease_held(BulkItem, item.id, owner=owner)
    free = {"lease_owner": FREE, "lease_expires": None}
    status = outcome.status
    if status == BulkItemStatus.PENDING and outcome.counts_as_attempt and item.attempts >= MAX_ATTEMPTS:
        status = BulkItemStatus.FAILED
        outcome = Outcome(status, error=f"gave up after {item.attempts} attempts: {outcome.error}")
    if status == BulkItemStatus.SENDING:
        delay = retry_delay(item.attempts)
        if ours.update(error=outcome.error[:2000], next_attempt_at=now + timedelta(seconds=delay), **free) == 1:
            wake(BULK_ITEM_RESOLVE, item.id, countdown=delay, time_limit=send_time_limit())
        return status
    if status == BulkItemStatus.UNKNOWN:
        # The client already watched the chat for one window; the resolver watches one more.
        delay = max(1.0, settle_window() / 4)
        if ours.update(status=status, error=outcome.error[:2000], next_attempt_at=now + timedelta(seconds=delay),
                       settle_by=now + timedelta(seconds=settle_window()), **free) == 1:
            wake(BULK_ITEM_RESOLVE, item.id, countdown=delay, time_limit=send_time_limit())
        return status
    if status == BulkItemStatus.PENDING and BulkJob.objects.filter(
            id=item.job_id, status=BulkJobStatus.CANCELLED).exists():
        status = BulkItemStatus.CANCELLED  # cancelled while this one was in flight: do not try again
    if status == BulkItemStatus.PENDING:
        delay = outcome.retry_in
        attempts = F("attempts") if outcome.counts_as_attempt else F("attempts") - 1
        if ours.update(status=status, error=outcome.error[:2000], attempts=attempts,
                       next_attempt_at=now + timedelta(seconds=delay), **free) == 1:
            bulk_items_wake([item.id], countdown=delay)
        return status
    ours.update(status=status, message_id=outcome.message_id, error=outcome.error[:2000], finished_at=now, **free)
    bulk_job_finish_if_done(job_id=item.job_id, now=now)
    return status


def retry_delay(attempts: int, rand: Callable[[], float] = random.random) -> float:
    """Pause before an item's next try: the engine's backoff from RETRY_BACKOFF_BASE (at least 1 s)."""
    return backoff_delay(attempt=max(1, attempts), base=max(1.0, settings.RETRY_BACKOFF_BASE),
                         cap=RETRY_PAUSE_MAX, rand=rand)


def _sends_due(now: datetime):
    return BulkItem.objects.filter(status=BulkItemStatus.PENDING, next_attempt_at__lte=now,
                                   lease_owner=FREE).exclude(job__status=BulkJobStatus.CANCELLED)


def _checks_due(now: datetime):
    return BulkItem.objects.filter(status__in=UNSETTLED, next_attempt_at__lte=now, lease_owner=FREE)


def _items_taken_back(now: datetime) -> list:
    """An item whose sender or checker died is `sending` with an unknown outcome: it is checked next."""
    return [(Q(status=BulkItemStatus.SENDING),
             {"next_attempt_at": now, "error": "the worker stopped mid-send: checking the chat before any resend"}),
            (Q(status=BulkItemStatus.UNKNOWN), {"next_attempt_at": now})]  # its checker died: look again


def _time_limit() -> dict:
    return {"time_limit": send_time_limit()}


# A queue of bulk sends waits on the rate limit, so a pending item's own wake-up may be minutes
# away: the sweep re-wakes it only after a minute (and then once a minute), not every sweep.
SENDS = Work(name="bulk sends", model=BulkItem, task=BULK_ITEM_SEND, due=_sends_due, taken_back=_items_taken_back,
             grace=timedelta(seconds=60), options=_time_limit)
CHECKS = Work(name="bulk checks", model=BulkItem, task=BULK_ITEM_RESOLVE, due=_checks_due, options=_time_limit)
