"""Wake-up calls to the Celery worker for events and deliveries.

A wake-up is only a hint: the rows say what is due, and the sweep re-sends anything
whose wake-up was lost. So a broker that is down must never fail the caller (above all
the incoming webhook, which has to answer Avito): the error is logged and swallowed.
Services call these from `transaction.on_commit`, so a worker never looks for a row
that is not committed yet.
"""
from __future__ import annotations

import logging

from webhooks.background_wakeups import BackgroundWakeups
from webhooks.doorbell import bell_answer, bell_ring

logger = logging.getLogger(__name__)


def _publish(task, *args, countdown: float | None = None) -> bool:
    try:
        task.apply_async(args, countdown=countdown)
        return True
    except Exception:  # noqa: BLE001 (any broker failure; the sweep re-sends)
        logger.exception("Could not queue %s%s; the sweep will pick it up", task.name, args)
        return False


def event_stored_wakeup(event_pk: int) -> None:
    """A new event is committed: wake the worker, from the background thread in a web server process."""
    if _background is not None:
        _background.hand_over(event_pk)
    else:
        events_stored_wakeup([event_pk])


def events_stored_wakeup(event_pks: list[int]) -> None:
    """New events are committed: ring the doorbell, and wake a drain only if nobody else just did."""
    from webhooks.tasks import event_process, events_drain  # tasks import services, which import this

    rang = bell_ring()
    if rang is None:
        for event_pk in event_pks:
            _publish(event_process, event_pk)
    elif rang and not _publish(events_drain):
        bell_answer()  # no drain is on its way after all: the next event must ring again


_background: BackgroundWakeups | None = None


def wakeups_in_background() -> None:
    """From now on this process wakes the worker from a thread of its own (a gunicorn worker,
    after its fork: a thread does not survive one)."""
    global _background
    _background = BackgroundWakeups(events_stored_wakeup).start()


def wakeups_flush() -> None:
    """Send the wake-ups still pending (a gunicorn worker about to exit)."""
    if _background is not None:
        _background.flush()


def event_process_wakeup(event_pk: int, *, countdown: float | None = None) -> None:
    from webhooks.tasks import event_process

    _publish(event_process, event_pk, countdown=countdown)


def events_drain_wakeup(*, fan_out: bool = True) -> None:
    from webhooks.tasks import events_drain

    _publish(events_drain, *(() if fan_out else (False,)))


def delivery_attempt_wakeup(delivery_pk: int, *, countdown: float | None = None) -> None:
    from webhooks.tasks import delivery_attempt

    _publish(delivery_attempt, delivery_pk, countdown=countdown)
