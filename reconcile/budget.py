"""The reconciler's share of the Avito call limit: a slot only when the window has spare room.

Every Avito call counts against the one shared limit (RATE_LIMIT_REQUESTS per
RATE_LIMIT_WINDOW, across processes). Reconciliation takes a slot only while the window
holds fewer than a quarter of the limit's calls, and never waits for one: with no room it
raises `BudgetSpent` and the run stops, to go on next time. Sends and webhook processing
therefore always find at least three quarters of the window free of reconciliation, and
reconciliation never adds a call beyond the limit, so it cannot draw a 429 from Avito.
"""
from __future__ import annotations

from django.conf import settings

from messenger.avito import client_with_limiter
from messenger.avito.client import AvitoClient
from messenger.avito.rate_limiter import RateLimiter

SHARE = 4  # reconciliation uses the window only while it is less than 1/SHARE full


class BudgetSpent(Exception):
    """The window has no spare room for reconciliation now; the run stops rather than wait."""


def budget_cap() -> int:
    """Reconciliation's calls are granted while fewer than this many are in the window."""
    return max(1, settings.RATE_LIMIT_REQUESTS // SHARE)


class SpareRoom:
    """Stands in for the rate limiter of the reconciler's client, and counts the calls it grants."""

    def __init__(self, limiter: RateLimiter, cap: int):
        self.limiter, self.cap, self.calls = limiter, cap, 0

    def acquire(self, timeout: float) -> float:
        granted_at = self.limiter.try_acquire(self.cap)
        if granted_at is None:
            raise BudgetSpent(f"the Avito call window is at least 1/{SHARE} full ({self.cap} of "
                              f"{settings.RATE_LIMIT_REQUESTS} per {settings.RATE_LIMIT_WINDOW:g} s)")
        self.calls += 1
        return granted_at

    def settle(self, granted_at: float, *, answered: bool = True) -> None:
        self.limiter.settle(granted_at, answered=answered)

    def refused(self, granted_at: float, pause: float) -> None:
        self.limiter.refused(granted_at, pause)  # Avito's 429 pauses everyone, the reconciler included


def budgeted_client() -> tuple[AvitoClient, SpareRoom]:
    """A client whose every call takes a spare slot or raises BudgetSpent, and its call counter."""
    rooms: list[SpareRoom] = []

    def wrap(limiter: RateLimiter) -> SpareRoom:
        rooms.append(SpareRoom(limiter, budget_cap()))
        return rooms[0]

    client = client_with_limiter(wrap)
    return client, rooms[0]
