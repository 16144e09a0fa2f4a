"""Celery tasks of bulk jobs: thin wake-ups, each calling one service on one row.

All are late-acknowledged (settings: CELERY_TASK_ACKS_LATE), and all are safe to run twice
or never: the row's status decides whether there is anything to do, and the beat sweep
re-sends a wake-up that was lost. Senders get a hard time limit when queued
(`wakeups.send_time_limit`), which is what lets the sweep treat an old `sending` row as
orphaned.
"""
from __future__ import annotations

from datetime import datetime

from celery import shared_task

from messenger.bulk import sending, services, sweep


@shared_task(name="messenger.bulk.tasks.bulk_item_send", ignore_result=True)
def bulk_item_send(item_id: int) -> None:
    sending.bulk_item_send(item_id=item_id)


@shared_task(name="messenger.bulk.tasks.bulk_item_resolve", ignore_result=True)
def bulk_item_resolve(item_id: int, claimed_at: str) -> None:
    sending.bulk_item_resolve(item_id=item_id, claimed_at=datetime.fromisoformat(claimed_at))


@shared_task(name="messenger.bulk.tasks.bulk_job_callback", ignore_result=True)
def bulk_job_callback(job_id: str) -> None:
    services.bulk_job_callback(job_id=job_id)


@shared_task(name="messenger.bulk.tasks.bulk_sweep", ignore_result=True)
def bulk_sweep() -> None:
    """Beat: resume stalled jobs (lost wake-ups, orphaned sends, unsent callbacks)."""
    sweep.bulk_sweep()
