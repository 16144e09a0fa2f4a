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
  sent. Not found: pending again. Never a resend on a guess.

A worker killed mid-send leaves its item `sending`; the sweep hands it to the resolver
once its hard time limit has surely passed (`wakeups.orphan_after`), so by then its
attempt, if it was made at all, can no longer land.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from avitogw.errors import GatewayError, OutcomeUnknown
from avitogw.logs import log_context_add
from messenger.avito import errors as avito
from messenger.avito import get_client
from messenger.bulk import wakeups
from messenger.bulk.services import bulk_job_finish_if_done
from messenger.models import BulkItem, BulkItemStatus, BulkJob, BulkJobStatus
from messenger.services import messages
from messenger.storage import message_upsert

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5   # tries of one item (rate-limit waits do not count) before it is `failed`
EARLY_TOLERANCE = timedelta(seconds=1)  # a wake-up may arrive a little before its row is due
UNSETTLED = (BulkItemStatus.SENDING, BulkItemStatus.UNKNOWN)
UNKNOWN_PREFIX = "outcome unknown, looking for it in the chat: "


@dataclass(frozen=True)
class Outcome:
    status: str                # sent, failed, pending (certainly not sent), sending or unknown (see above)
    message_id: str = ""
    error: str = ""
    retry_in: float = 0.0
    counts_as_attempt: bool = True


def bulk_item_send(*, item_id: int, clock: Callable[[], datetime] = timezone.now) -> str | None:
    """Claim and send one pending item; returns its new status, or None if it was not ours to send."""
    now = clock()
    claimable = (BulkItem.objects.filter(id=item_id, status=BulkItemStatus.PENDING)
                 .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now + EARLY_TOLERANCE))
                 .exclude(job__status=BulkJobStatus.CANCELLED))
    if claimable.update(status=BulkItemStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1,
                        next_attempt_at=None) != 1:
        return None
    item = BulkItem.objects.get(id=item_id)
    log_context_add(job_id=item.job_id)  # for the rest of the task (avitogw.celery resets it)
    BulkJob.objects.filter(id=item.job_id, status=BulkJobStatus.QUEUED).update(status=BulkJobStatus.RUNNING)
    try:
        outcome = Outcome(BulkItemStatus.SENT, message_id=str(_dispatch(item).get("message_id") or ""))
    except Exception as exc:  # noqa: BLE001 - every failure is classified below, none is lost
        outcome = _classify(exc)
    return _record(item, claimed_at=now, outcome=outcome, now=clock())


def bulk_item_resolve(*, item_id: int, claimed_at: datetime,
                      clock: Callable[[], datetime] = timezone.now) -> str | None:
    """Settle a `sending` or `unknown` item whose send may or may not have reached Avito, by asking Avito."""
    item = BulkItem.objects.filter(id=item_id, status__in=UNSETTLED, claimed_at=claimed_at).first()
    if item is None:
        return None  # already settled, or claimed again since
    log_context_add(job_id=item.job_id)
    known = BulkItem.objects.filter(chat_id=item.chat_id, status=BulkItemStatus.SENT,
                                    finished_at__gte=claimed_at - timedelta(minutes=1)).exclude(message_id="")
    try:
        found = get_client().find_recent_outgoing(
            item.chat_id, since=claimed_at.timestamp(), text=_sent_text(item),
            kind="image" if item.kind == "image" else "text",
            exclude=set(known.values_list("message_id", flat=True)))
    except avito.AvitoError as exc:
        # Look again after as long again as the item has been unsettled: the pauses double
        # while Avito stays down, up to the sweep's own period.
        now = clock()
        delay = min(wakeups.orphan_after(), max(1.0, (now - claimed_at).total_seconds()))
        logger.warning("Could not check bulk item %s against Avito (%s); looking again in %.0f s",
                       item_id, exc, delay)
        return _look_again(item, claimed_at=claimed_at, delay=delay, now=now)
    now = clock()
    if found:
        message_upsert(found, chat_id=item.chat_id, account_user_id=settings.AVITO_USER_ID)
        outcome = Outcome(BulkItemStatus.SENT, message_id=str(found["id"]))
    elif item.status == BulkItemStatus.UNKNOWN and item.settle_by and now < item.settle_by:
        # Avito may still be storing it: look again, at most every quarter of the window.
        pause = max(1.0, wakeups.settle_window() / 4)
        return _look_again(item, claimed_at=claimed_at, now=now,
                           delay=max(0.0, min(pause, (item.settle_by - now).total_seconds())))
    elif item.status == BulkItemStatus.UNKNOWN:
        cause = item.error.removeprefix(UNKNOWN_PREFIX)
        outcome = Outcome(BulkItemStatus.FAILED, error=(
            f"not delivered: Avito did not confirm the send ({cause}) and the message was still not in the chat "
            f"{wakeups.settle_window():g} s later; the gateway does not send it again on its own. Check the chat "
            f"and send it again if it is still wanted."))
    else:
        outcome = Outcome(BulkItemStatus.PENDING, error=item.error)
    return _record(item, claimed_at=claimed_at, outcome=outcome, now=now)


def _look_again(item: BulkItem, *, claimed_at: datetime, delay: float, now: datetime) -> str:
    """Leave the item unsettled and wake the resolver again in `delay` seconds."""
    if BulkItem.objects.filter(id=item.id, status=item.status, claimed_at=claimed_at) \
            .update(next_attempt_at=now + timedelta(seconds=delay)) == 1:
        wakeups.wake_resolver(item.id, claimed_at, countdown=delay)
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
        return Outcome(BulkItemStatus.FAILED, error=_refusal(exc))
    if not isinstance(exc, (avito.AvitoError, GatewayError)):
        logger.exception("Bulk send failed unexpectedly; checking Avito before any resend")
    message = getattr(exc, "message", None) or str(exc) or exc.__class__.__name__
    return Outcome(BulkItemStatus.SENDING, error=f"not confirmed, checking Avito: {message}")


def _refusal(exc: GatewayError) -> str:
    """`image_url: The image is empty.`: the field and the reason, as the single-send answer details them."""
    if isinstance(exc.details, dict) and exc.details:
        return "; ".join(f"{field}: {' '.join(map(str, why)) if isinstance(why, list) else why}"
                         for field, why in exc.details.items())
    return exc.message


def _record(item: BulkItem, *, claimed_at: datetime, outcome: Outcome, now: datetime) -> str:
    """Write the outcome, but only over our own claim (a conditional UPDATE on claimed_at)."""
    ours = BulkItem.objects.filter(id=item.id, status__in=UNSETTLED, claimed_at=claimed_at)
    status = outcome.status
    if status == BulkItemStatus.PENDING and outcome.counts_as_attempt and item.attempts >= MAX_ATTEMPTS:
        status = BulkItemStatus.FAILED
        outcome = Outcome(status, error=f"gave up after {item.attempts} attempts: {outcome.error}")
    if status == BulkItemStatus.SENDING:
        delay = wakeups.retry_delay(item.attempts)
        if ours.update(error=outcome.error[:2000], next_attempt_at=now + timedelta(seconds=delay)) == 1:
            wakeups.wake_resolver(item.id, claimed_at, countdown=delay)
        return status
    if status == BulkItemStatus.UNKNOWN:
        # The client already watched the chat for one window; the resolver watches one more.
        delay = max(1.0, wakeups.settle_window() / 4)
        if ours.update(status=status, error=outcome.error[:2000], next_attempt_at=now + timedelta(seconds=delay),
                       settle_by=now + timedelta(seconds=wakeups.settle_window())) == 1:
            wakeups.wake_resolver(item.id, claimed_at, countdown=delay)
        return status
    if status == BulkItemStatus.PENDING and BulkJob.objects.filter(
            id=item.job_id, status=BulkJobStatus.CANCELLED).exists():
        status = BulkItemStatus.CANCELLED  # cancelled while this one was in flight: do not try again
    if status == BulkItemStatus.PENDING:
        delay = outcome.retry_in
        attempts = F("attempts") if outcome.counts_as_attempt else F("attempts") - 1
        if ours.update(status=status, error=outcome.error[:2000], attempts=attempts,
                       next_attempt_at=now + timedelta(seconds=delay)) == 1:
            wakeups.wake_senders([item.id], countdown=delay)
        return status
    ours.update(status=status, message_id=outcome.message_id, error=outcome.error[:2000], finished_at=now)
    bulk_job_finish_if_done(job_id=item.job_id, now=now)
    return status
