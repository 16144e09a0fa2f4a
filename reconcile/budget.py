"""The reconciler's share of the Avito call limit: the window's spare room, a reserve kept for
sends, and a floor so that it is never starved.

Every Avito call counts against the one shared limit (RATE_LIMIT_REQUESTS per
RATE_LIMIT_WINDOW, across processes). Reconciliation takes a slot whenever the window holds
fewer than the limit minus a reserve (a quarter of the limit), never waiting for one: sends
and webhook processing always find that quarter free of reconciliation. When the window is
busier than that (a shop sending all the time), a run still takes a floor of calls through
the ordinary limiter, waiting its turn like a send, so it goes on a little every interval
instead of never: half the reserve per call window, spread over the runs in it (2 a run at
the defaults of 100 per 60 s and a run every 10 s; 12 with a run a minute), so sends keep
the other half of the reserve whatever reconciliation has to do. Neither way adds a call
beyond the limit, so reconciliation cannot draw a 429 from Avito. With no room left the run raises `BudgetSpent` and stops, to be
resumed at its cursor next time.
"""
from __future__ import annotations

from django.conf import settings

from messenger.avito import client_with_limiter
from messenger.avito.client import AvitoClient
from messenger.avito.errors import AvitoRateLimited
from messenger.avito.rate_limiter import RateLimiter

RESERVE_SHARE = 4  # a quarter of the limit is left to sends and webhook processing
FLOOR_WAIT = 5.0  # seconds a floor call waits for a slot before the run gives up


class BudgetSpent(Exception):
    """The window has no room for reconciliation now; the run stops rather than wait."""


def budget_cap() -> int:
    """Reconciliation's spare calls are granted while fewer than this many are in the window."""
    return max(1, settings.RATE_LIMIT_REQUESTS - settings.RATE_LIMIT_REQUESTS // RESERVE_SHARE)


def budget_floor() -> int:
    """Calls every run may take even when the window is busier than the cap: half the reserve per
    call window, shared by the runs that fit in one (at least one call a run)."""
    half_reserve = settings.RATE_LIMIT_REQUESTS // RESERVE_SHARE / 2
    interval = settings.RECONCILE_INTERVAL
    runs_per_window = max(1.0, settings.RATE_LIMIT_WINDOW / interval) if interval else 1.0
    return max(1, int(half_reserve / runs_per_window))


class SpareRoom:
    """Stands in for the rate limiter of the reconciler's client, and counts the calls it grants."""

    def __init__(self, limiter: RateLimiter, cap: int, floor: int, floor_wait: float | None = None):
        self.limiter, self.cap, self.floor = limiter, cap, floor
        self.floor_wait = FLOOR_WAIT if floor_wait is None else floor_wait
        self.calls = self.floor_calls = 0

    def acquire(self, timeout: float) -> float:
        granted_at = self.limiter.try_acquire(self.cap)
        if granted_at is None:
            granted_at = self._floor_slot()
        self.calls += 1
        return granted_at

    def spare_only(self) -> None:
        """From now on only the room below half the limit (sends, bursty, keep the rest), and none
        of the floor calls left."""
        self.cap = min(self.cap, max(1, settings.RATE_LIMIT_REQUESTS // 2))
        self.floor = self.floor_calls

    def _floor_slot(self) -> float:
        if self.floor_calls >= self.floor:
            raise BudgetSpent(f"the Avito call window holds {self.cap} or more of {settings.RATE_LIMIT_REQUESTS} "
                              f"calls per {settings.RATE_LIMIT_WINDOW:g} s, and this run's {self.floor} "
                              "floor calls are used")
        try:
            granted_at = self.limiter.acquire(timeout=self.floor_wait)
        except AvitoRateLimited as exc:
            raise BudgetSpent(f"no Avito call slot within {self.floor_wait:g} s, even for the floor") from exc
        self.floor_calls += 1
        return granted_at

    def settle(self, granted_at: float, *, answered: bool = True) -> None:
        self.limiter.settle(granted_at, answered=answered)

    def refused(self, granted_at: float, pause: float) -> None:
        self.limiter.refused(granted_at, pause)  # Avito's 429 pauses everyone, the reconciler included


def budgeted_client() -> tuple[AvitoClient, SpareRoom]:
    """A client whose every call takes a spare or floor slot or raises BudgetSpent, and its counter."""
    rooms: list[SpareRoom] = []

    def wrap(limiter: RateLimiter) -> SpareRoom:
        rooms.append(SpareRoom(limiter, budget_cap(), budget_floor()))
        return rooms[0]

    client = client_with_limiter(wrap)
    return client, rooms[0]
