"""The one sweep (Celery beat, every few seconds): nothing stored is ever left behind.

Apps register each kind of work they have (`register(Work(...))`, from their AppConfig's
`ready`). Every sweep, for each kind:

1. rows whose lease ran out (their worker died, or stalled without a heartbeat) are taken
   back: freed, with the changes the kind gives (pending again, failed when no attempt is
   left, or "to be checked" for a send whose outcome is unknown);
2. rows due for longer than the kind's `grace` (their own wake-up was lost: a broker down
   when it was sent, a worker killed with prefetched messages) are woken again: each row's
   task with its id, or the kind's drain once. A re-woken row's `stamp` field moves to now,
   so a row waiting in a long queue is re-woken once per grace, not every sweep.

A row's claim makes a duplicate wake-up harmless, so the sweep never needs to know what
is still in flight in the broker. It calls nothing outside the database and the broker.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable

from django.db import transaction
from django.db.models import Model, Q, QuerySet
from django.utils import timezone

from core.work.leases import FREE, leases_expired
from core.work.wakeups import wake

logger = logging.getLogger(__name__)

BATCH = 500  # rows per kind and step in one sweep; a larger backlog is handled over the following sweeps


@dataclass(frozen=True)
class Work:
    name: str
    model: type[Model]
    task: str  # the task that does the work, by name
    due: Callable[[datetime], QuerySet]  # free rows ready for their task now
    taken_back: Callable[[datetime], list[tuple[Q, dict]]] = lambda now: []  # (which expired rows, changes)
    drain: bool = False  # True: the task takes every due row itself, woken once without arguments
    grace: timedelta = timedelta(seconds=10)  # how long a due row's own wake-up may take before the sweep's
    stamp: str = "next_attempt_at"  # moved to now when the sweep wakes a row
    options: Callable[[], dict] = dict  # more of the wake-up's options (time_limit...)


@dataclass
class Registry:
    works: dict[str, Work] = field(default_factory=dict)
    chores: dict[str, Callable[[datetime], int]] = field(default_factory=dict)


REGISTRY = Registry()


def register(work: Work) -> None:
    REGISTRY.works[work.name] = work


def register_chore(name: str, chore: Callable[[datetime], int]) -> None:
    """Housekeeping an app needs once per sweep (e.g. ending jobs whose last row a dead worker settled)."""
    REGISTRY.chores[name] = chore


def work_take_back(work: Work, *, now: datetime) -> list:
    """Free the rows of `work` whose lease ran out, with the kind's changes; their ids."""
    expired = leases_expired(work.model, now=now)
    pks = list(expired.order_by("lease_expires").values_list("pk", flat=True)[:BATCH])
    if not pks:
        return []
    taken = 0
    for which, changes in work.taken_back(now):
        taken += expired.filter(which, pk__in=pks).update(lease_owner=FREE, lease_expires=None, **changes)
    logger.warning("Took back %s %s whose worker stopped (lease expired)", taken, work.name)
    return pks


def work_rewake(work: Work, *, now: datetime, among: list | None = None) -> int:
    """Wake the task of rows due for longer than the grace (or of rows `among` these, due now);
    how many wake-ups were sent."""
    if among is None:
        rows = work.due(now).filter(**{f"{work.stamp}__lte": now - work.grace})
    else:
        rows = work.due(now).filter(pk__in=among)
    if work.drain:
        if rows.exists():
            wake(work.task, **work.options())
            return 1
        return 0
    pks = list(rows.order_by(work.stamp).values_list("pk", flat=True)[:BATCH])
    if not pks:
        return 0
    rows.filter(pk__in=pks).update(**{work.stamp: now})
    for pk in pks:
        wake(work.task, pk if isinstance(pk, int) else str(pk), **work.options())
    return len(pks)


def work_sweep(*, clock: Callable[[], datetime] = timezone.now) -> dict[str, int]:
    """One pass over every registered kind of work; returns what it did, by kind."""
    now = clock()
    done: dict[str, int] = {}
    with transaction.atomic():  # the wake-ups go out after the commit
        taken: dict[type[Model], list] = {}
        for name, work in REGISTRY.works.items():
            pks = work_take_back(work, now=now)
            if pks:
                taken.setdefault(work.model, []).extend(pks)
                done[f"{name} taken back"] = len(pks)
        for name, work in REGISTRY.works.items():
            # Rows just taken back are woken at once (whichever kind on their table is due for them).
            woken = work_rewake(work, now=now, among=taken[work.model]) if work.model in taken else 0
            woken += work_rewake(work, now=now)
            if woken:
                done[f"{name} woken"] = woken
    for name, chore in REGISTRY.chores.items():
        count = chore(now)
        if count:
            done[name] = count
    # Every few seconds: a line only when there was something to take back or wake (DEBUG otherwise).
    logger.log(logging.INFO if done else logging.DEBUG, "Sweep: %s",
               ", ".join(f"{count} {kind}" for kind, count in sorted(done.items())) or "nothing to resume")
    return done
