"""Reads of the reconcile app: the latest runs, and how long ago the last one succeeded."""
from __future__ import annotations

from datetime import datetime

from reconcile.models import ReconcileRun, RunOutcome

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
