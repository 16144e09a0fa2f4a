"""Celery task of the reconcile app: beat's tick, calling one service."""
from celery import shared_task

from reconcile.services import reconcile_scheduled
from reconcile.task_names import RECONCILE_TICK


@shared_task(name=RECONCILE_TICK, ignore_result=True)
def reconcile_tick() -> None:
    """Beat, every RECONCILE_INTERVAL seconds: look for messages whose notification never came."""
    reconcile_scheduled()
