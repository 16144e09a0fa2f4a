"""Bulk jobs and their items: rows with a status each, sent by workers within the shared rate limit.

The table, not the Celery message, is the source of truth for what was sent. The tables
keep the names they had when these models lived in `messenger` (bulk/migrations/0001
moved the models without moving the data).
"""
from __future__ import annotations

import uuid

from django.db import models

from core.work.leases import FREE, Leased


class BulkJobStatus(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class BulkJob(Leased):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    status = models.CharField(max_length=16, choices=BulkJobStatus.choices, default=BulkJobStatus.QUEUED,
                              db_index=True)
    total = models.PositiveIntegerField(default=0)
    callback_url = models.URLField(max_length=2048, blank=True)
    callback_status = models.CharField(max_length=255, blank=True, help_text="outcome of the summary POST")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "messenger_bulkjob"  # created by messenger's migrations; the app moved, the data did not
        ordering = ["-created_at"]
        # The admin's "cancel" (bulk/admin.py): stopping a campaign is not for a viewer of jobs.
        permissions = [("cancel_bulkjob", "Can cancel bulk jobs (admin action)")]
        indexes = [models.Index(fields=["lease_owner"], name="bulk_job_leased", condition=~models.Q(lease_owner=FREE))]


class BulkItemStatus(models.TextChoices):
    PENDING = "pending"
    SENDING = "sending"
    UNKNOWN = "unknown"  # reached Avito, answer lost, not yet seen in the chat: settled by looking, never resent
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"


class BulkItem(Leased):
    job = models.ForeignKey(BulkJob, on_delete=models.CASCADE, related_name="items")
    index = models.PositiveIntegerField()
    chat_id = models.CharField(max_length=128)
    kind = models.CharField(max_length=8, help_text="text, image or link")
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=16, choices=BulkItemStatus.choices, default=BulkItemStatus.PENDING,
                              db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True, help_text="when a worker took it for sending")
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True,
                                           help_text="a pending item is not sent before this; its wake-up was due then")
    settle_by = models.DateTimeField(null=True, blank=True,
                                     help_text="an unknown outcome not seen in the chat by then is failed")
    message_id = models.CharField(max_length=128, blank=True)
    error = models.TextField(blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "messenger_bulkitem"
        ordering = ["job", "index"]
        constraints = [models.UniqueConstraint(fields=["job", "index"], name="bulk_item_job_index")]
        indexes = [models.Index(fields=["lease_owner"], name="bulk_item_leased", condition=~models.Q(lease_owner=FREE))]
