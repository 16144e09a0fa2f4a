"""The engine's one task: the sweep, run by Celery beat (settings.CELERY_BEAT_SCHEDULE)."""
from celery import shared_task

from core.work.sweep import work_sweep as work_sweep_service
from core.work.task_names import WORK_SWEEP


@shared_task(name=WORK_SWEEP, ignore_result=True)
def work_sweep() -> dict[str, int]:
    """Take back expired leases and re-wake whatever is due, for every kind of work."""
    return work_sweep_service()
