"""Reads of bulk jobs: one job, its progress as the API and the callback show it, how many are running."""
from __future__ import annotations

from collections import Counter
from uuid import UUID

from core.errors import NotFound
from bulk.models import BulkItemStatus, BulkJob, BulkJobStatus


def bulk_job_get(*, job_id: UUID) -> BulkJob:
    job = BulkJob.objects.filter(id=job_id).first()
    if job is None:
        raise NotFound(f"No bulk job {job_id}.")
    return job


def bulk_job_progress(*, job_id: UUID) -> dict:
    """The job's status, counts and every item.

    `pending` counts every item not yet settled: waiting, being sent, or `unknown` (its send
    reached Avito but is not confirmed yet; `unknown` also counts those on their own).
    """
    job = bulk_job_get(job_id=job_id)
    items = list(job.items.order_by("index").values("index", "chat_id", "status", "message_id", "error"))
    counts = Counter(item["status"] for item in items)
    return {
        "job_id": str(job.id),
        "status": job.status,
        "total": job.total,
        "sent": counts[BulkItemStatus.SENT],
        "failed": counts[BulkItemStatus.FAILED],
        "pending": counts[BulkItemStatus.PENDING] + counts[BulkItemStatus.SENDING] + counts[BulkItemStatus.UNKNOWN],
        "unknown": counts[BulkItemStatus.UNKNOWN],
        "cancelled": counts[BulkItemStatus.CANCELLED],
        "created_at": job.created_at.isoformat(),
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        "items": [
            {"index": item["index"], "chat_id": item["chat_id"], "status": item["status"],
             "message_id": item["message_id"] or None, "error": item["error"] or None}
            for item in items
        ],
    }


def bulk_jobs_running_count() -> int:
    """Jobs still sending (the admin's status board)."""
    return BulkJob.objects.filter(status=BulkJobStatus.RUNNING).count()
