"""Bulk jobs as a whole: create one, cancel one, notice when one has ended, report its end once.

A job and its items are written in one transaction, and the workers are woken (by task
name) only after it commits. A job ends when no item is `pending`, `sending` or `unknown`;
the conditional UPDATE that stamps `finished_at` happens once, and the summary callback is
then posted by whoever leases the job's callback (core.work).
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Iterable
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.errors import Conflict, InvalidInput
from core.logs import log_context_add
from core.url_guard import UrlPolicy, UrlRefused, UrlUnresolvable, allowed_host_entry, check_url
from core.work.heartbeat import HEARTBEAT
from core.work.leases import FREE, lease_claim, lease_finish, lease_owner_new
from core.work.sweep import Work
from core.work.wakeups import wake
from bulk import callback_client
from bulk.models import BulkItem, BulkItemStatus, BulkJob, BulkJobStatus
from bulk.selectors import bulk_job_get, bulk_job_progress
from bulk.task_names import BULK_ITEM_SEND, BULK_JOB_CALLBACK

UNFINISHED = (BulkItemStatus.PENDING, BulkItemStatus.SENDING, BulkItemStatus.UNKNOWN)
BATCH = 500  # jobs the sweep's chore looks at per pass


def send_time_limit() -> float:
    """Seconds one item's send may run before Celery kills it (rate-limit waits, retries, verification)."""
    return max(10.0, 4 * (settings.MAX_RETRIES + 1) * settings.CONNECTION_TIMEOUT)


def bulk_items_wake(item_ids: Iterable[int], *, countdown: float = 0) -> None:
    """Wake a sender for each item once the caller's transaction commits."""
    for item_id in item_ids:
        wake(BULK_ITEM_SEND, item_id, countdown=countdown or None, time_limit=send_time_limit())


def callback_policy() -> UrlPolicy:
    """Where a callback may go besides public addresses: CALLBACK_ALLOWED_HOSTS and n8n's own host and port."""
    n8n = allowed_host_entry(settings.N8N_WEBHOOK_URL) if settings.N8N_WEBHOOK_URL else None
    return UrlPolicy.of(allowed_hosts=[*settings.CALLBACK_ALLOWED_HOSTS, *([n8n] if n8n else [])])


def callback_url_check(*, url: str) -> None:
    """InvalidInput (400) for a callback_url the gateway must not call (core.url_guard)."""
    try:
        check_url(url, callback_policy(), what="callback")
    except (UrlRefused, UrlUnresolvable) as exc:
        raise InvalidInput("Invalid input: callback_url. Nothing was queued.",
                           details={"callback_url": [str(exc)]}) from None


def bulk_job_create(*, items: list[dict], callback_url: str = "") -> BulkJob:
    """Store a job and its items (`{"kind", "chat_id", "payload"}`, already validated) and queue them."""
    if callback_url:
        callback_url_check(url=callback_url)
    now = timezone.now()
    with transaction.atomic():
        job = BulkJob.objects.create(total=len(items), callback_url=callback_url)
        BulkItem.objects.bulk_create([
            BulkItem(job=job, index=index, chat_id=item["chat_id"], kind=item["kind"],
                     payload=item["payload"], next_attempt_at=now)
            for index, item in enumerate(items)
        ])
        item_ids = list(job.items.order_by("index").values_list("id", flat=True))
        bulk_items_wake(item_ids)
    return job


def bulk_job_cancel(*, job_id: UUID) -> BulkJob:
    """Stop a job: its pending items become `cancelled`; items already being sent finish."""
    job = bulk_job_get(job_id=job_id)
    with transaction.atomic():
        BulkJob.objects.filter(id=job.id, status__in=[BulkJobStatus.QUEUED, BulkJobStatus.RUNNING]) \
            .update(status=BulkJobStatus.CANCELLED)
        job.refresh_from_db()
        if job.status != BulkJobStatus.CANCELLED:
            raise Conflict(f"Bulk job {job.id} has already completed; nothing is left to cancel.", code="job_finished")
        BulkItem.objects.filter(job_id=job.id, status=BulkItemStatus.PENDING).update(
            status=BulkItemStatus.CANCELLED, error="cancelled", finished_at=timezone.now())
    bulk_job_finish_if_done(job_id=job.id)
    job.refresh_from_db()
    return job


def bulk_job_finish_if_done(*, job_id: UUID, now: datetime | None = None) -> bool:
    """Mark the job ended when no item is left to send; True for the one caller that did it."""
    if BulkItem.objects.filter(job_id=job_id, status__in=UNFINISHED).exists():
        return False
    job = BulkJob.objects.filter(id=job_id, finished_at__isnull=True).first()
    if job is None:
        return False
    final = BulkJobStatus.CANCELLED if job.status == BulkJobStatus.CANCELLED else BulkJobStatus.COMPLETED
    now = now or timezone.now()
    ended = BulkJob.objects.filter(id=job_id, finished_at__isnull=True, status=job.status).update(
        status=final, finished_at=now, updated_at=now, callback_status="pending" if job.callback_url else "")
    if ended and job.callback_url:
        wake(BULK_JOB_CALLBACK, str(job_id))
    return bool(ended)


def bulk_job_callback(*, job_id: UUID, clock=timezone.now) -> str | None:
    """POST the ended job's summary to its callback_url, signed like deliveries to n8n; the worker
    that leases the callback posts it (a worker that dies meanwhile: the sweep hands it on)."""
    log_context_add(job_id=job_id)
    owner = lease_owner_new()
    if lease_claim(BulkJob.objects.filter(id=job_id, callback_status="pending"), owner=owner, now=clock(),
                   callback_status="sending") != 1:
        return None  # not ended, no callback, or another worker has it
    with HEARTBEAT.holding(owner, BulkJob):
        summary = bulk_job_progress(job_id=job_id)
        body = json.dumps({"event": "bulk_job.finished", **summary}, ensure_ascii=False).encode()
        outcome = callback_client.post_summary(
            url=BulkJob.objects.values_list("callback_url", flat=True).get(id=job_id), body=body,
            msg_id=f"bulk_{job_id}", secret=settings.N8N_WEBHOOK_SECRET, policy=callback_policy())
        lease_finish(BulkJob, job_id, owner=owner, callback_status=outcome[:255])
    return outcome


def bulk_jobs_tidy(now) -> int:
    """The sweep's chore: pending items of cancelled jobs are cancelled, and jobs whose last item
    was settled by a worker that died before ending the job are ended; how many of both."""
    cancelled = BulkItem.objects.filter(status=BulkItemStatus.PENDING, job__status=BulkJobStatus.CANCELLED)
    done = BulkItem.objects.filter(id__in=list(cancelled.values_list("id", flat=True)[:BATCH])).filter(
        status=BulkItemStatus.PENDING).update(status=BulkItemStatus.CANCELLED, error="cancelled", finished_at=now)
    for job_id in BulkJob.objects.filter(finished_at__isnull=True).values_list("id", flat=True)[:BATCH]:
        done += bulk_job_finish_if_done(job_id=job_id, now=now)
    return done


def _callbacks_due(now):
    return BulkJob.objects.filter(callback_status="pending", lease_owner=FREE)


def _callbacks_taken_back(now) -> list:
    return [(Q(), {"callback_status": "pending", "updated_at": now})]


CALLBACKS = Work(name="bulk callbacks", model=BulkJob, task=BULK_JOB_CALLBACK, due=_callbacks_due,
                 taken_back=_callbacks_taken_back, stamp="updated_at", grace=timedelta(seconds=10))
