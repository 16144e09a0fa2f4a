"""One reconciliation run: take the lease, read what changed since the watermark, record the run.

`reconcile_run` is what Celery beat (every RECONCILE_INTERVAL seconds) and the command
`avito_reconcile` call. With no watermark yet (the first start) it sets the watermark to
now and reads nothing, and no later scheduled run reads before that moment, so installing
the gateway delivers no history; the command, given a window, is how history is imported
on purpose. Otherwise it reads the chats updated
since the watermark minus OVERLAP (Avito stamps `updated` with its own clock), oldest
first, and stores each message no event holds yet (reconcile.poller).

The watermark moves only over what is stored: after a complete run, to the moment the run
began; after a run stopped early (no spare room in the call window, an Avito error), to the
`updated` time of the first chat it did not finish, which every chat still to read is at
or after. A crash leaves it where it was, so the next run repeats work and skips none.
"""
from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta, timezone as tz

from django.conf import settings
from django.utils import timezone

from core.metrics import reconcile_run_counted
from messenger.avito import avito_settings_missing
from messenger.avito.errors import AvitoError
from core.work.leases import Clock
from reconcile.budget import BudgetSpent, budgeted_client
from reconcile.lease import (first_start_get, first_start_set, lease_release, lease_renew, lease_take,
                             watermark_advance, watermark_get)
from reconcile.models import ReconcileRun, RunOutcome, RunTrigger
from reconcile.poller import chat_catch_up, chats_updated_since

logger = logging.getLogger(__name__)

# Read back this far before the watermark: Avito's clock and ours may disagree a little,
# and a message may show in Avito's lists a moment after the time it is stamped with.
OVERLAP = timedelta(seconds=15)


class LeaseLost(Exception):
    """The run took longer than its lease and another run has it now: stop, leave it the watermark."""


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
    reads from then instead of from the watermark."""
    owner = uuid.uuid4().hex
    if not lease_take(owner=owner, now=clock()):
        return None
    try:
        run = ReconcileRun.objects.create(trigger=trigger, started_at=clock())
        watermark = watermark_get()
        if since is None and watermark is None:
            run.watermark = first_start_set(owner=owner, now=run.started_at)
            return _finish(run, RunOutcome.STARTED, clock)
        run.since = since if since is not None else _window_start(watermark)
        try:
            return _read(run, owner, clock)
        except Exception as exc:  # not swallowed (the task's logs and error tracker see it); recorded first
            run.error = f"{exc.__class__.__name__}: {exc}"
            _finish(run, RunOutcome.ERROR, clock)
            raise
    finally:
        lease_release(owner=owner)


def _window_start(watermark: datetime) -> datetime:
    """A scheduled run's start: the overlap before the watermark, but never before the first start
    (what was written before the gateway was installed is history, imported only by hand)."""
    first_start = first_start_get()
    return max(watermark - OVERLAP, first_start) if first_start else watermark - OVERLAP


def _read(run: ReconcileRun, owner: str, clock: Clock) -> ReconcileRun:
    client, room = budgeted_client()
    chats: list[dict] = []
    done = 0  # chats read to the end, oldest first
    outcome, error = RunOutcome.OK, ""
    try:
        chats = chats_updated_since(client, run.since)
        for chat in chats:
            run.messages_found += chat_catch_up(client, chat, run.since)
            done += 1
            if not lease_renew(owner=owner, now=clock()):
                raise LeaseLost("the run outlived its lease and another run took over")
    except BudgetSpent as exc:
        outcome, error = RunOutcome.BUDGET, str(exc)
    except (AvitoError, LeaseLost) as exc:
        outcome, error = RunOutcome.ERROR, getattr(exc, "message", str(exc))
        logger.warning("Reconciliation run %s stopped: %s", run.pk, error)
    finally:
        run.chats_seen, run.calls = done, room.calls  # recorded whatever happened, a crash included
    run.error = error
    if outcome == RunOutcome.OK:
        run.watermark = watermark_advance(owner=owner, to=run.started_at)
    elif done < len(chats):  # the chats list was read: everything before the first unread chat is stored
        first_unread = datetime.fromtimestamp(int(chats[done].get("updated") or 0), tz=tz.utc)
        run.watermark = watermark_advance(owner=owner, to=first_unread)
    else:
        run.watermark = watermark_get()
    return _finish(run, outcome, clock)


def _finish(run: ReconcileRun, outcome: str, clock: Clock) -> ReconcileRun:
    run.outcome, run.finished_at = outcome, clock()
    run.save()
    reconcile_run_counted(outcome, trigger=run.trigger, messages_found=run.messages_found)
    return run
