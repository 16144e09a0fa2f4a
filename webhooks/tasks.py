"""Celery tasks of the webhooks app: thin wake-ups, each calling one service.

The rows decide what happens; a task whose row is not due or is held elsewhere does
nothing, so a duplicate or late message is harmless.
"""
from celery import shared_task

from webhooks.delivery import delivery_attempt as delivery_attempt_service
from webhooks.services import event_process as event_process_service
from webhooks.services import events_drain as events_drain_service
from webhooks.sweep import webhooks_sweep as webhooks_sweep_service


@shared_task(name="webhooks.tasks.event_process", ignore_result=True)
def event_process(event_pk: int) -> None:
    """Store, normalize and queue for n8n one incoming Avito event."""
    event_process_service(event_pk=event_pk)


@shared_task(name="webhooks.tasks.events_drain", ignore_result=True)
def events_drain(fan_out: bool = True) -> None:
    """Process pending events (woken by the doorbell once per burst; more drains on a backlog)."""
    events_drain_service(fan_out=fan_out)


@shared_task(name="webhooks.tasks.delivery_attempt", ignore_result=True)
def delivery_attempt(delivery_pk: int) -> None:
    """One signed POST of one delivery to n8n."""
    delivery_attempt_service(delivery_pk=delivery_pk)


@shared_task(name="webhooks.tasks.webhooks_sweep", ignore_result=True)
def webhooks_sweep() -> None:
    """Beat: re-queue whatever is due, take back rows of dead workers."""
    webhooks_sweep_service()
