"""Celery tasks of bulk jobs: thin wake-ups, each calling one service on one row.

All are late-acknowledged (settings: CELERY_TASK_ACKS_LATE), and all are safe to run twice
or never: the row's lease decides whether there is anything to do, and the engine's sweep
(core.work.sweep) re-sends a wake-up that was lost. Services wake these by name.
"""
from __future__ import annotations

from celery import shared_task

from bulk import sending, services
from bulk.task_names import BULK_ITEM_RESOLVE, BULK_ITEM_SEND, BULK_JOB_CALLBACK


@shared_task(name=BULK_ITEM_SEND, ignore_result=True)
def bulk_item_send(item_id: int) -> None:
    sending.bulk_item_send(item_id=item_id)


@shared_task(name=BULK_ITEM_RESOLVE, ignore_result=True)
def bulk_item_resolve(item_id: int, claimed_at: str | None = None) -> None:
    """Check an item whose send's outcome is unknown (`claimed_at`: from wake-ups queued before leases)."""
    sending.bulk_item_resolve(item_id=item_id)


@shared_task(name=BULK_JOB_CALLBACK, ignore_result=True)
def bulk_job_callback(job_id: str) -> None:
    services.bulk_job_callback(job_id=job_id)
