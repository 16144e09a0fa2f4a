"""The reconciler's rows: one state row (the watermark and the lease) and one row per run.

The watermark is Avito's time up to which every message of every chat is stored: a run
reads only the chats updated since (minus a small overlap against clock skew) and moves
it forward only once what lies before the new value is stored. The lease on the same
row lets one run at a time go on, across every process; it expires, so a run whose
process died does not block the next one for long.
"""
from __future__ import annotations

from django.db import models


class ReconcileState(models.Model):
    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    watermark = models.DateTimeField(null=True, blank=True,
                                     help_text="messages of chats updated before this are stored")
    first_start = models.DateTimeField(null=True, blank=True,
                                       help_text="scheduled runs never read before it: no history is delivered")
    lease_owner = models.CharField(max_length=64, blank=True, help_text="the run going on now")
    lease_until = models.DateTimeField(null=True, blank=True, help_text="that run's lease ends then")

    class Meta:
        verbose_name = "reconciliation state"


class RunOutcome(models.TextChoices):
    RUNNING = "running", "going on"
    OK = "ok", "every chat updated since the watermark was read"
    STARTED = "started", "first start: the watermark was set to now, no history delivered"
    BUDGET = "budget", "stopped early: the shared Avito call limit had no spare room"
    ERROR = "error", "stopped by an error"


class RunTrigger(models.TextChoices):
    BEAT = "beat", "every RECONCILE_INTERVAL seconds"
    COMMAND = "command", "python manage.py avito_reconcile"


class ReconcileRun(models.Model):
    trigger = models.CharField(max_length=8, choices=RunTrigger.choices, default=RunTrigger.BEAT)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    since = models.DateTimeField(null=True, blank=True, help_text="chats updated from then on were read")
    watermark = models.DateTimeField(null=True, blank=True, help_text="the watermark after the run")
    chats_seen = models.PositiveIntegerField(default=0, help_text="chats updated since, whose messages were read")
    messages_found = models.PositiveIntegerField(default=0, help_text="messages not stored before: now on their way")
    calls = models.PositiveIntegerField(default=0, help_text="calls made to Avito")
    outcome = models.CharField(max_length=8, choices=RunOutcome.choices, default=RunOutcome.RUNNING)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]
        indexes = [models.Index(fields=["outcome", "started_at"], name="reconcile_run_outcome")]

    def __str__(self) -> str:
        return f"run {self.pk} ({self.outcome})"
