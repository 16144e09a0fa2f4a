"""One reconciliation run: take the lease, go on with the open window (or open one), record the run.

`reconcile_run` is what Celery beat (every RECONCILE_INTERVAL seconds) and the command
`avito_reconcile` call. With no watermark yet (the first start) it sets the watermark to
now and reads nothing, and no later scheduled run reads before that moment, so installing
the gateway delivers no history; the command, given a window, is how history is imported
on purpose.

Otherwise a run goes on with the open window (reconcile.window), or opens one from the
watermark minus OVERLAP to now. It lists the window's chats (newest first, down to its
start; a page a call), then reads them oldest first from the cursor (reconcile.poller
decides what each costs), moving the cursor after each. A run that stops early (no room in
the call window, an Avito error, a crash) leaves the cursor at the last chat finished, and
the next run resumes there: the overlap is not taken again and no chat is read twice. When
the window's last chat is read the watermark moves to the window's end.
"""
from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta, timezone as tz
from typing import Callable

from django.conf import settings
from django.utils import timezone

from core.metrics import reconcile_run_counted
from messenger.avito import avito_settings_missing
from messenger.avito.errors import AvitoError
from core.work.leases import Clock
from reconcile.budget import BudgetSpent, SpareRoom, budget_floor, budgeted_client
from reconcile.deferred import chat_deferred_postpone, chats_deferred
from reconcile.lease import first_start_get, first_start_set, lease_release, lease_renew, lease_take, watermark_get
from reconcile.models import ReconcileRun, RunOutcome, RunTrigger
from reconcile.poller import chat_reconcile, chats_listed, deferred_reconcile
from reconcile.window import (OVERLAP, Window, cursor_advance, window_chats_add, window_chats_after, window_close,
                              window_get, window_missed, window_open)

logger = logging.getLogger(__name__)
BATCH = 50  # chats of the window read from the database at a time

__all__ = ["OVERLAP", "reconcile_run", "reconcile_scheduled"]


class LeaseLost(Exception):
    """The run took longer than its lease and another run has it now: stop, leave it the window."""


def reconcile_scheduled(*, clock: Clock = timezone.now) -> ReconcileRun | None:
    """Beat's run, unless RECONCILE_INTERVAL is 0 (off) or the Avito account is not set up yet;
    None also when another run is going on."""
    if not settings.RECONCILE_INTERVAL:
        return None
    missing = avito_settings_missing()
    if missing:
        # A new install before its .env is filled in: /health says so; a failed run and a warning
        # every interval would only bury the logs.
        _say_once(f"Reconciliation waits for {', '.join(missing)} to be set")
        return None
    return reconcile_run(trigger=RunTrigger.BEAT, clock=clock)


_said: set[str] = set()


def _say_once(text: str) -> None:
    if text not in _said:
        _said.add(text)
        logger.info(text)


def reconcile_run(*, trigger: str = RunTrigger.BEAT, since: datetime | None = None,
                  clock: Clock = timezone.now) -> ReconcileRun | None:
    """One run, recorded; None when another run holds the lease. `since` (the command's window)
    opens a window from then (or from the open window's start, if earlier) to now."""
    owner = uuid.uuid4().hex
    if not lease_take(owner=owner, now=clock()):
        return None
    try:
        run = ReconcileRun.objects.create(trigger=trigger, started_at=clock())
        watermark, window = watermark_get(), window_get()
        if since is None and watermark is None:
            run.watermark = first_start_set(owner=owner, now=run.started_at)
            return _finish(run, RunOutcome.STARTED, clock)
        if since is not None:
            start = min(since, window.since) if window else since
            window = window_open(owner=owner, since=start, end=run.started_at)
        elif window is None:
            window = window_open(owner=owner, since=_window_start(watermark), end=run.started_at)
        run.since = window.since
        try:
            return _read(run, window, owner, clock)
        except Exception as exc:  # not swallowed (the task's logs and error tracker see it); recorded first
            run.error = f"{exc.__class__.__name__}: {exc}"
            _finish(run, RunOutcome.ERROR, clock)
            raise
    finally:
        lease_release(owner=owner)


def _window_start(watermark: datetime) -> datetime:
    """A fresh window's start: the overlap before the watermark (taken here only, once a window),
    but never before the first start (what was written before the gateway was installed is
    history, imported only by hand)."""
    first_start = first_start_get()
    return max(watermark - OVERLAP, first_start) if first_start else watermark - OVERLAP


def _read(run: ReconcileRun, window: Window, owner: str, clock: Clock) -> ReconcileRun:
    client, room = budgeted_client()
    outcome, error = RunOutcome.OK, ""
    try:
        _list(client, window, owner, clock)
        _catch_up(client, run, window, owner, clock)
    except BudgetSpent as exc:
        outcome, error = RunOutcome.BUDGET, str(exc)
    except (AvitoError, LeaseLost) as exc:
        outcome, error = RunOutcome.ERROR, getattr(exc, "message", str(exc))
        logger.warning("Reconciliation run %s stopped: %s", run.pk, error)
    finally:
        run.calls = room.calls  # recorded whatever happened, a crash included
    run.error = error
    if outcome == RunOutcome.OK:
        window_close(owner=owner, watermark=window.end)
        try:
            _read_deferred(client, room, run, owner, clock)
        finally:
            run.calls = room.calls
    run.watermark = watermark_get()
    return _finish(run, outcome, clock)


def _read_deferred(client, room: SpareRoom, run: ReconcileRun, owner: str, clock: Clock) -> None:
    """With the window closed, read the chats windows spared (reconcile.deferred), oldest first,
    on spare room only (below half the limit) and at most the floor's number a run: the floor is
    the windows', the rest of the limit the sends', and what is left unread waits."""
    room.spare_only()
    # As many chats a run as its floor: spread over the runs, what a busy shop's sends never miss.
    for_this_run = budget_floor()
    try:
        while for_this_run > 0 and (batch := chats_deferred(limit=min(BATCH, for_this_run))):
            for row in batch:
                for_this_run -= 1
                try:
                    run.messages_found += deferred_reconcile(client, row)
                except AvitoError as exc:
                    # To the back of the queue: a chat Avito keeps refusing must not block the others.
                    chat_deferred_postpone(row, now=clock())
                    logger.warning("Reconciliation run %s left the spared chats for later: %s", run.pk,
                                   getattr(exc, "message", str(exc)))
                    return
                if not lease_renew(owner=owner, now=clock()):
                    return
    except BudgetSpent:
        return


def _list(client, window: Window, owner: str, clock: Clock) -> None:
    """List the window's chats, a page a call, from where listing stopped last time; a listing of
    more than one page then reads the top again (reconcile.window.window_chats_add says why)."""
    offset, topup = window.listing_offset, window.topup
    while offset is not None:
        chats, next_offset = chats_listed(client, since=window.since, end=window.end, offset=offset, topup=topup)
        if next_offset is None and not topup and offset > 0:
            next_offset, topup = 0, True
        offset = next_offset
        if not window_chats_add(owner=owner, chats=chats, next_offset=offset, topup=topup) or not lease_renew(
                owner=owner, now=clock()):
            raise LeaseLost("the run outlived its lease and another run took over")


def _catch_up(client, run: ReconcileRun, window: Window, owner: str, clock: Clock) -> None:
    """Read the window's chats oldest first from the cursor, moving it after each. The command (a
    catch-up by hand) reads every chat written to in full, sparing no call on a bet."""
    missed, cursor = window_missed(), window.cursor
    while batch := window_chats_after(cursor, limit=BATCH):
        for row in batch:
            run.messages_found += chat_reconcile(client, row.chat, since=window.since, until=window.end,
                                                 missed=missed, full=run.trigger == RunTrigger.COMMAND,
                                                 now=clock())
            run.chats_seen += 1
            if not cursor_advance(owner=owner, chat=row) or not lease_renew(owner=owner, now=clock()):
                raise LeaseLost("the run outlived its lease and another run took over")
            cursor = (row.updated, row.chat_id)


def _finish(run: ReconcileRun, outcome: str, clock: Clock) -> ReconcileRun:
    run.outcome, run.finished_at = outcome, clock()
    run.save()
    reconcile_run_counted(outcome, trigger=run.trigger, messages_found=run.messages_found)
    return run
