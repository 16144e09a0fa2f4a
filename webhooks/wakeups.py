"""Wake-up calls to the Celery worker for events and deliveries.

A wake-up is only a hint: the rows say what is due, and the sweep re-sends anything
whose wake-up was lost. So a broker that is down must never fail the caller (above all
the incoming webhook, which has to answer Avito): the error is logged and swallowed.
Services call these from `transaction.on_commit`, so a worker never looks for a row
that is not committed yet.
"""
from __future__ import annotations

import logging

logger = logging.getLogger(__name__)


def event_process_wakeup(event_pk: int, *, countdown: float | None = None) -> None:
    from webhooks.tasks import event_process  # tasks import services, which import this

    try:
        event_process.apply_async((event_pk,), countdown=countdown)
    except Exception:  # noqa: BLE001 (any broker failure; the sweep re-sends)
        logger.exception("Could not queue incoming event %s; the sweep will pick it up", event_pk)


def delivery_attempt_wakeup(delivery_pk: int, *, countdown: float | None = None) -> None:
    from webhooks.tasks import delivery_attempt

    try:
        delivery_attempt.apply_async((delivery_pk,), countdown=countdown)
    except Exception:  # noqa: BLE001 (any broker failure; the sweep re-sends)
        logger.exception("Could not queue delivery %s; the sweep will pick it up", delivery_pk)
