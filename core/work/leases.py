"""Leased rows: claim with a conditional UPDATE, finish fenced on the lease's owner.

A row that is work (`Leased`) carries who holds it (`lease_owner`, a token new for every
claim) and until when (`lease_expires`). `lease_claim` writes both with an UPDATE whose
WHERE says the row is free and due, and returns the count: the worker goes on only for
the rows it got. The heartbeat (core.work.heartbeat) pushes the expiry forward while
the worker lives; the sweep (core.work.sweep) takes back rows whose lease ran out.
`lease_finish` records the outcome only WHERE the owner is still the claimer: a worker
that stalled past its lease, whose row went to another worker, changes nothing.
"""
from __future__ import annotations

import itertools
import os
import socket
import uuid
from datetime import datetime, timedelta
from typing import Any, Callable

from django.db import models
from django.db.models import QuerySet

from core.singleton import PerProcess

LEASE = timedelta(seconds=30)  # renewed every heartbeat.RENEW_EVERY: a dead worker's rows return within it
FREE = ""  # lease_owner of a row nobody holds
# What a row taken back from a dead worker says (its last_error), for every kind of work.
LOST_WORKER = "The worker holding it stopped before finishing (lease expired)."
Clock = Callable[[], datetime]  # `clock=timezone.now` by default; tests pass a fixed one

# This process (host, pid, a nonce against pid reuse); a forked child (Celery's pool) gets its own.
_process: PerProcess[str] = PerProcess(lambda: f"{socket.gethostname()[:24]}:{os.getpid()}:{uuid.uuid4().hex[:6]}")
_claims = itertools.count(1)


class Leased(models.Model):
    """The two columns of a row that a worker claims (abstract: each app's model adds them)."""

    lease_owner = models.CharField(max_length=64, blank=True, default=FREE,
                                   help_text="the worker claim holding this row; empty when free")
    lease_expires = models.DateTimeField(null=True, blank=True,
                                         help_text="the holder's lease ends here unless its heartbeat renews it")

    class Meta:
        abstract = True


def lease_owner_new() -> str:
    """A token for one claim: this process (host, pid, a nonce against pid reuse) and a counter."""
    return f"{_process.get()}:{next(_claims)}"


def lease_claim(rows: QuerySet, *, owner: str, now: datetime, **changes: Any) -> int:
    """Lease the free rows among `rows` (whose filter says they are due) to `owner`; how many it got."""
    return rows.filter(lease_owner=FREE).update(lease_owner=owner, lease_expires=now + LEASE, **changes)


def lease_finish(model: type[models.Model], pk: Any, *, owner: str, **changes: Any) -> bool:
    """Record `changes` and free the row, if `owner` still holds it; False when the lease was lost."""
    return model.objects.filter(pk=pk, lease_owner=owner).update(
        lease_owner=FREE, lease_expires=None, **changes) == 1


def leases_finish(model: type[models.Model], pks: list, *, owner: str, **changes: Any) -> int:
    """`lease_finish` for many rows of one claim at once (one UPDATE); how many were still held."""
    return model.objects.filter(pk__in=pks, lease_owner=owner).update(lease_owner=FREE, lease_expires=None, **changes)


def lease_held(model: type[models.Model], pk: Any, *, owner: str) -> QuerySet:
    """The row, if `owner` still holds it (for a fenced update of more than one statement)."""
    return model.objects.filter(pk=pk, lease_owner=owner)


def leases_renew(model: type[models.Model], owners: list[str], *, now: datetime) -> int:
    """Push forward the leases of these claims (the heartbeat)."""
    return model.objects.exclude(lease_owner=FREE).filter(lease_owner__in=owners).update(lease_expires=now + LEASE)


def leases_expired(model: type[models.Model], *, now: datetime) -> QuerySet:
    """Rows held by a claim whose lease ran out: its worker died, or stalled without a heartbeat."""
    return model.objects.exclude(lease_owner=FREE).filter(lease_expires__lt=now)
