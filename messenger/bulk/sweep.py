"""The beat sweep that resumes stalled bulk jobs: every lost wake-up is sent again.

Celery messages get lost: a worker killed with its prefetched messages, the embedded
broker (which hands a message over for good when a worker reads it), a broker that was
down when a job was created. The rows say what is still to do, so the sweep finds rows
whose wake-up is overdue and wakes a worker for each. It makes no Avito call itself.
Before waking it moves the row's `next_attempt_at` to now with a conditional UPDATE, so
overlapping sweeps do not both wake the same row and a row is woken at most once per
`orphan_after` seconds, however long the queue in front of it.
"""
from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime, timedelta
from typing import Callable

from django.db.models import Q
from django.utils import timezone

from messenger.bulk import wakeups
from messenger.bulk.services import bulk_job_finish_if_done
from messenger.models import BulkItem, BulkItemStatus, BulkJob, BulkJobStatus

logger = logging.getLogger(__name__)

BATCH = 500  # rows of each kind handled per sweep; the next sweep takes the rest
LATE_LOOK = timedelta(seconds=60)  # an `unknown` item's look this overdue lost its wake-up


def bulk_sweep(*, clock: Callable[[], datetime] = timezone.now) -> dict[str, int]:
    """One pass; returns how many rows of each kind it acted on."""
    now = clock()
    cutoff = now - timedelta(seconds=wakeups.orphan_after())
    acted: Counter = Counter()

    # `sending` with no live sender: the worker died mid-send, or the check of an unknown
    # outcome was never run. Only the resolver may settle it (it asks Avito first).
    # `unknown` has no sender at all, only the resolver's next look: re-woken once that is overdue.
    orphaned = BulkItem.objects.filter(
        Q(status=BulkItemStatus.SENDING, next_attempt_at__isnull=True, claimed_at__lt=cutoff)
        | Q(status=BulkItemStatus.SENDING, next_attempt_at__lt=cutoff)
        | Q(status=BulkItemStatus.UNKNOWN, next_attempt_at__lt=now - LATE_LOOK))
    for item_id, claimed_at in orphaned.values_list("id", "claimed_at")[:BATCH]:
        if orphaned.filter(id=item_id).update(next_attempt_at=now) == 1:
            wakeups.wake_resolver(item_id, claimed_at)
            acted["orphaned"] += 1

    cancelled = BulkItem.objects.filter(status=BulkItemStatus.PENDING, job__status=BulkJobStatus.CANCELLED)
    acted["cancelled"] = BulkItem.objects.filter(id__in=list(cancelled.values_list("id", flat=True)[:BATCH])) \
        .filter(status=BulkItemStatus.PENDING).update(status=BulkItemStatus.CANCELLED, error="cancelled",
                                                      finished_at=now)

    overdue = BulkItem.objects.filter(status=BulkItemStatus.PENDING).filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lt=cutoff)).exclude(job__status=BulkJobStatus.CANCELLED)
    item_ids = list(overdue.values_list("id", flat=True)[:BATCH])
    if item_ids and overdue.filter(id__in=item_ids).update(next_attempt_at=now):
        wakeups.wake_senders(item_ids)
        acted["overdue"] = len(item_ids)

    # Jobs whose last item was settled by a worker that died before ending the job.
    for job_id in BulkJob.objects.filter(finished_at__isnull=True).values_list("id", flat=True)[:BATCH]:
        acted["ended"] += bulk_job_finish_if_done(job_id=job_id, now=now)

    unsent = BulkJob.objects.filter(callback_status="pending", updated_at__lt=cutoff)
    for job_id in unsent.values_list("id", flat=True)[:BATCH]:
        if unsent.filter(id=job_id).update(updated_at=now) == 1:
            wakeups.wake_callback(job_id)
            acted["callbacks"] += 1
    acted = {kind: count for kind, count in acted.items() if count}
    # Every 15 s: a line only when there was something to resume (DEBUG otherwise).
    logger.log(logging.INFO if acted else logging.DEBUG, "Bulk sweep: %s",
               ", ".join(f"{count} {kind}" for kind, count in sorted(acted.items())) or "nothing to resume")
    return acted
