"""Celery task of the reconcile app: beat's tick, calling one service."""
from celery import shared_task

from reconcile.services import reconcile_scheduled


@shared_task(name="reconcile.tasks.reconcile_tick", ignore_result=True)
def reconcile_tick() -> None:
    """Beat, every RECONCILE_INTERVAL seconds: look for messages whose notification never came."""
    reconcile_scheduled()
