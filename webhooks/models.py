"""Incoming Avito notifications and their deliveries to n8n: the rows are the source of truth.

An IncomingEvent is stored before Avito gets its 200, unique on Avito's message id, so a
repeated notification is dropped by the database itself. A Delivery is one normalized
message on its way to N8N_WEBHOOK_URL, unique on its event id, with every attempt recorded.
Both are work for the engine (core.work): a worker claims a row with a lease, its
heartbeat renews the lease, and the sweep takes back a row whose worker died. Celery
messages only wake workers up.
"""
from __future__ import annotations

from django.db import models

from core.work.leases import FREE, Leased


class EventStatus(models.TextChoices):
    PENDING = "pending", "waiting to be processed"
    PROCESSING = "processing", "being processed"
    PROCESSED = "processed", "stored (and queued for n8n when it is to be delivered)"
    IGNORED = "ignored", "nothing to do (unknown type or no message)"
    ERROR = "error", "processing failed; retried"
    FAILED = "failed", "processing failed every attempt"
    UNPROCESSABLE = "unprocessable", "malformed (an id or value Avito never sends): kept, never processed"


class EventSource(models.TextChoices):
    WEBHOOK = "webhook", "Avito's notification"
    POLL = "poll", "found by reconciliation (its notification never came)"


class IncomingEvent(Leased):
    avito_event_id = models.CharField(max_length=128, blank=True, help_text="the notification's own `id`")
    event_type = models.CharField(max_length=64, blank=True, help_text="payload.type")
    message_id = models.CharField(max_length=128, null=True, blank=True,
                                  help_text="Avito message id: a repeat of it is dropped")
    chat_id = models.CharField(max_length=128, blank=True)
    raw = models.JSONField(help_text="the notification exactly as Avito sent it (or, polled, as it would have)")
    source = models.CharField(max_length=8, choices=EventSource.choices, default=EventSource.WEBHOOK,
                              help_text="how the message came: Avito's notification or reconciliation")
    status = models.CharField(max_length=16, choices=EventStatus.choices, default=EventStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    repeats = models.PositiveIntegerField(default=0, help_text="how many times Avito sent it again")
    note = models.CharField(max_length=255, blank=True)
    last_error = models.TextField(blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]
        # The admin's "process again" (webhooks/admin.py): a viewer of events must not re-run them.
        permissions = [("reprocess_event", "Can process events again (admin action)")]
        # Every notification is an INSERT and its processing an UPDATE of these, so only the
        # indexes something uses: the unique message id (ON CONFLICT), the worker's look-ups
        # (partial: only the few rows still in work, however many are done) and the admin's
        # search by chat and browsing by date. Status and type are filtered only in the admin.
        constraints = [models.UniqueConstraint(fields=["message_id"], name="incoming_event_message_id")]
        indexes = [
            models.Index(fields=["next_attempt_at"], name="incoming_event_due",
                         condition=models.Q(status__in=[EventStatus.PENDING, EventStatus.ERROR])),
            models.Index(fields=["lease_owner"], name="incoming_event_leased", condition=~models.Q(lease_owner=FREE)),
            models.Index(fields=["chat_id"], name="incoming_event_chat"),
            models.Index(fields=["received_at"], name="incoming_event_received"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type or 'event'} {self.message_id or self.pk}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "waiting for its next attempt"
    DELIVERING = "delivering", "being posted"
    DELIVERED = "delivered", "n8n answered 2xx"
    FAILED = "failed", "every attempt failed"


class Delivery(Leased):
    incoming_event = models.ForeignKey(IncomingEvent, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="deliveries")
    event_id = models.CharField(max_length=160, help_text="webhook-id: the same on every retry")
    body = models.TextField(help_text="the exact JSON posted to n8n")
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "deliveries"
        # The admin's "replay" (webhooks/admin.py): a viewer of deliveries must not post to n8n again.
        permissions = [("replay_delivery", "Can replay deliveries to n8n (admin action)")]
        # As for events: the unique webhook-id, the worker's partial look-ups, the lists by date.
        constraints = [models.UniqueConstraint(fields=["event_id"], name="delivery_event_id")]
        indexes = [
            models.Index(fields=["next_attempt_at"], name="delivery_due", condition=models.Q(status=DeliveryStatus.PENDING)),
            models.Index(fields=["lease_owner"], name="delivery_leased", condition=~models.Q(lease_owner=FREE)),
            models.Index(fields=["created_at"], name="delivery_created"),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} ({self.status})"
