"""One reconciliation at a time, across every process: a lease on the state row.

Taking it is one conditional UPDATE (free, or its lease ran out), so two processes can
never both hold it; the holder renews it as it goes and gives it back at the end. A run
whose process died holds it until it expires, and its run row is then closed as an error
by the next run. The lease is long enough for one Avito call with all its retries.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q

from reconcile.models import ReconcileRun, ReconcileState, RunOutcome

DIED = "The process running it stopped before the end (its lease expired)."


def lease_length() -> timedelta:
    """A holder renews after every chat: one Avito call with its retries fits, and a margin."""
    return timedelta(seconds=settings.CONNECTION_TIMEOUT * (settings.MAX_RETRIES + 1) + 30)


def lease_take(*, owner: str, now: datetime) -> bool:
    """Hold the lease if nobody does (or a holder's ran out); closes the runs of a dead holder."""
    ReconcileState.objects.get_or_create(id=1)
    free = Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    if not ReconcileState.objects.filter(free, id=1).update(lease_owner=owner, lease_until=now + lease_length()):
        return False
    ReconcileRun.objects.filter(outcome=RunOutcome.RUNNING).update(outcome=RunOutcome.ERROR, error=DIED,
                                                                    finished_at=now)
    return True


def lease_renew(*, owner: str, now: datetime) -> bool:
    """Extend the lease; False when it is no longer ours (it ran out and another run took it)."""
    return bool(ReconcileState.objects.filter(id=1, lease_owner=owner).update(lease_until=now + lease_length()))


def lease_release(*, owner: str) -> None:
    ReconcileState.objects.filter(id=1, lease_owner=owner).update(lease_owner="", lease_until=None)


def watermark_get() -> datetime | None:
    return ReconcileState.objects.filter(id=1).values_list("watermark", flat=True).first()


def first_start_get() -> datetime | None:
    return ReconcileState.objects.filter(id=1).values_list("first_start", flat=True).first()


def first_start_set(*, owner: str, now: datetime) -> datetime | None:
    """The first start: the watermark and the history floor are now; the watermark after."""
    ReconcileState.objects.filter(id=1, lease_owner=owner).update(watermark=now, first_start=now)
    return watermark_get()
