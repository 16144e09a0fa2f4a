"""Reads of the reconcile app: the latest runs, how long ago the last one succeeded, and how far
behind reconciliation is."""
from __future__ import annotations

from datetime import datetime

from reconcile.models import ReconcileRun, ReconcileState, RunOutcome

SUCCESSES = (RunOutcome.OK, RunOutcome.STARTED)


def run_list(*, limit: int = 20) -> list[ReconcileRun]:
    """The newest runs first."""
    return list(ReconcileRun.objects.order_by("-started_at", "-pk")[:limit])


def last_success_at() -> datetime | None:
    """When the last run that read everything it had to (or set the first watermark) ended."""
    return (ReconcileRun.objects.filter(outcome__in=SUCCESSES).order_by("-finished_at")
            .values_list("finished_at", flat=True).first())


def run_latest() -> ReconcileRun | None:
    """The newest run, whatever its outcome (one going on included)."""
    return ReconcileRun.objects.order_by("-started_at", "-pk").first()


def reconcile_lag(*, now: datetime) -> float | None:
    """Seconds between now and the watermark: every message written before it has been read, and
    the oldest window still to read starts there. About an interval when all is well; it grows
    while a window takes runs to read (an outage's backlog, a busy call window). None before the
    first run."""
    watermark = ReconcileState.objects.filter(id=1).values_list("watermark", flat=True).first()
    return max(0.0, (now - watermark).total_seconds()) if watermark else None
