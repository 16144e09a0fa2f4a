"""Celery tasks of the webhooks app: thin wake-ups, each calling one service.

The rows decide what happens; a task whose row is not due or is held elsewhere does
nothing, so a duplicate or late message is harmless. Services wake these by name
(core.work.wakeups), so nothing but Celery imports this module.
"""
from celery import shared_task

from webhooks.delivery import delivery_attempt as delivery_attempt_service
from webhooks.processing import events_drain as events_drain_service
from webhooks.retention import ignored_events_prune as ignored_events_prune_service
from webhooks.task_names import DELIVERY_ATTEMPT, EVENTS_DRAIN, IGNORED_EVENTS_PRUNE


@shared_task(name=EVENTS_DRAIN, ignore_result=True)
def events_drain(fan_out: bool = True) -> None:
    """Process every due event, in leased batches (more drains on a backlog)."""
    events_drain_service(fan_out=fan_out)


@shared_task(name=DELIVERY_ATTEMPT, ignore_result=True)
def delivery_attempt(delivery_pk: int) -> None:
    """One signed POST of one delivery to n8n (retries, replays, the sweep's wake-ups)."""
    delivery_attempt_service(delivery_pk=delivery_pk)


@shared_task(name=IGNORED_EVENTS_PRUNE, ignore_result=True)
def ignored_events_prune() -> None:
    """Hourly (beat): ignored notifications older than a week go."""
    ignored_events_prune_service()
