"""Wake-up calls for bulk work, and how long each piece of that work may take.

The rows are the truth and Celery messages only say "look at this row now", so every
function here may be called twice for the same row and losing a call loses nothing:
the sweep notices the row is overdue and calls again. A broker that is down when a
wake-up is sent is logged, not raised: the caller's rows are already committed.
"""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Iterable

from django.conf import settings

logger = logging.getLogger(__name__)

ORPHAN_MARGIN = 5.0  # seconds beyond a send's hard time limit before its row is presumed orphaned


def send_time_limit() -> float:
    """Seconds one item's send may run before Celery kills it (rate-limit waits, retries, verification)."""
    return max(10.0, 4 * (settings.MAX_RETRIES + 1) * settings.CONNECTION_TIMEOUT)


def orphan_after() -> float:
    """A `sending` item claimed longer ago than this has no live sender: its worker died or was killed."""
    return send_time_limit() + ORPHAN_MARGIN


def settle_window() -> float:
    """How long an `unknown` item is looked for in the chat before it is failed: one more CONNECTION_TIMEOUT."""
    return float(settings.CONNECTION_TIMEOUT)


def retry_delay(attempts: int) -> float:
    """Pause before an item's next try: exponential from RETRY_BACKOFF_BASE (at least 1 s), at most 5 min."""
    return min(300.0, max(1.0, settings.RETRY_BACKOFF_BASE) * 2 ** max(0, attempts - 1))


def _publish(task, args: tuple, **options) -> None:
    try:
        task.apply_async(args, **options)
    except Exception:  # noqa: BLE001 - any broker failure: the sweep re-sends the wake-up later
        logger.warning("Could not queue %s%s; the bulk sweep will retry it", task.name, args, exc_info=True)


def wake_senders(item_ids: Iterable[int], *, countdown: float = 0) -> None:
    from messenger.bulk import tasks

    limit = send_time_limit()
    for item_id in item_ids:
        _publish(tasks.bulk_item_send, (item_id,), countdown=countdown or None, time_limit=limit)


def wake_resolver(item_id: int, claimed_at: datetime, *, countdown: float = 0) -> None:
    from messenger.bulk import tasks

    _publish(tasks.bulk_item_resolve, (item_id, claimed_at.isoformat()), countdown=countdown or None,
             time_limit=send_time_limit())


def wake_callback(job_id) -> None:
    from messenger.bulk import tasks

    _publish(tasks.bulk_job_callback, (str(job_id),))
