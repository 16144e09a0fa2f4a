"""The reconciler's rows: one state row (the watermark, the open window, its cursor and the lease),
the chats listed for the open window, and one row per run.

The watermark is Avito's time up to which every message of every chat is stored. A window
is opened from the watermark (minus a small overlap against clock skew, once) to the moment
it opens; its chats are listed once into `WindowChat` and read oldest first, the cursor (the
chat's Avito `updated` and id) marking the last one finished, so a run that stops early is
resumed exactly there. When every chat of the window is read the watermark moves to its end.
The lease on the state row lets one run at a time go on, across every process; it expires,
so a run whose process died does not block the next one for long.
"""
from __future__ import annotations

from django.db import models


class ReconcileState(models.Model):
    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    watermark = models.DateTimeField(null=True, blank=True,
                                     help_text="messages of chats updated before this are stored")
    first_start = models.DateTimeField(null=True, blank=True,
                                       help_text="scheduled runs never read before it: no history is delivered")
    window_since = models.DateTimeField(null=True, blank=True,
                                        help_text="the open window's start (the overlap taken once); none open: null")
    window_end = models.DateTimeField(null=True, blank=True, help_text="the open window's end: when it was opened")
    listing_offset = models.PositiveIntegerField(null=True, blank=True,
                                                 help_text="the next chats page to list; null once listed")
    listing_topup = models.BooleanField(default=False, help_text=(
        "listing reads the top of the list again, for chats that moved there while it paged"))
    cursor_updated = models.BigIntegerField(null=True, blank=True,
                                            help_text="Avito `updated` of the last chat of the window read")
    cursor_chat_id = models.CharField(max_length=128, blank=True, help_text="and its id (ties on `updated`)")
    lease_owner = models.CharField(max_length=64, blank=True, help_text="the run going on now")
    lease_until = models.DateTimeField(null=True, blank=True, help_text="that run's lease ends then")

    class Meta:
        verbose_name = "reconciliation state"


class WindowChat(models.Model):
    """A chat of the open window, as Avito's chat list showed it when the window was listed."""
    chat_id = models.CharField(max_length=128, primary_key=True)
    updated = models.BigIntegerField(help_text="Avito's `updated` (Unix seconds) when listed")
    chat = models.JSONField(help_text="Avito's chat object, `last_message` included")
    last_missed = models.BooleanField(default=False,
                                      help_text="its last message had no event when listed: a notification missed")

    class Meta:
        indexes = [models.Index(fields=["updated", "chat_id"], name="reconcile_window_order")]


class RunOutcome(models.TextChoices):
    RUNNING = "running", "going on"
    OK = "ok", "every chat of the window was read: the watermark moved to its end"
    STARTED = "started", "first start: the watermark was set to now, no history delivered"
    BUDGET = "budget", "stopped early: the shared Avito call limit had no spare room (resumed at the cursor)"
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
    chats_seen = models.PositiveIntegerField(default=0, help_text="chats of the window this run finished")
    messages_found = models.PositiveIntegerField(default=0, help_text="messages not stored before: now on their way")
    calls = models.PositiveIntegerField(default=0, help_text="calls made to Avito")
    outcome = models.CharField(max_length=8, choices=RunOutcome.choices, default=RunOutcome.RUNNING)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]
        indexes = [models.Index(fields=["outcome", "started_at"], name="reconcile_run_outcome")]

    def __str__(self) -> str:
        return f"run {self.pk} ({self.outcome})"


class DeferredChat(models.Model):
    """A chat the chat list's last message spared a call on: read in full later, with spare room only."""
    chat_id = models.CharField(max_length=128, primary_key=True)
    chat = models.JSONField(help_text="Avito's chat object when it was last spared")
    since = models.DateTimeField(help_text="read its messages from then on (the earliest window that spared it)")
    until = models.DateTimeField(help_text="up to then (the latest window that spared it; later ones see the rest)")
    deferred_at = models.DateTimeField(help_text="when it was first spared: read oldest first")

    class Meta:
        indexes = [models.Index(fields=["deferred_at"], name="reconcile_deferred_order")]
