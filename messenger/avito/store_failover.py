"""Redis with the database behind it: the Avito token and call limit keep working while Redis is down.

With REDIS_URL set, the shared token and the rate-limit window live in Redis. When a Redis
call fails (refused, timed out, reset), this process moves both to the database store, the
one a gateway without Redis uses, at once and for the call that met the failure too. It
keeps to the database for RETRY_SECONDS, then tries Redis again, and stays on Redis from
its first success. Nothing needs a restart; /health shows which store is in use.

While processes switch at slightly different moments, some count their calls in Redis and
some in the database, and a Redis that comes back empty has forgotten the calls of the
last window: for one window after an outage the limit may be overshot by what the other
store holds. The token is fetched again from Avito when the store in use has none.
A database that fails as well is a `StoreUnavailable` (503 `dependency_unavailable`).
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Callable, TypeVar

from messenger.avito.errors import RedisUnavailable
from messenger.avito.rate_limiter import DatabaseWindowStore, RedisWindowStore
from messenger.avito.token_store import DatabaseTokenBackend, RedisTokenBackend, Token

logger = logging.getLogger(__name__)

RETRY_SECONDS = 5.0  # how long a process stays on the database before trying Redis again
T = TypeVar("T")


class RedisOutage:
    """Whether this process should use Redis now; one per process, shared by the token and the limit."""

    def __init__(self, *, retry_seconds: float | None = None, clock: Callable[[], float] = time.monotonic):
        self.retry_seconds = RETRY_SECONDS if retry_seconds is None else retry_seconds
        self.clock = clock
        self.down_until: float | None = None  # None: Redis is in use
        self._lock = threading.Lock()

    @property
    def store(self) -> str:
        return "redis" if self.down_until is None else "database"

    def run(self, on_redis: Callable[[], T], on_database: Callable[[], T]) -> T:
        down_until = self.down_until
        if down_until is not None and self.clock() < down_until:
            return on_database()
        try:
            result = on_redis()
        except RedisUnavailable as exc:
            with self._lock:
                if self.down_until is None:
                    logger.warning("%s Using the database for the Avito token and call limit; "
                                   "trying Redis again every %g s", exc.message, self.retry_seconds)
                self.down_until = self.clock() + self.retry_seconds
            return on_database()
        if down_until is not None:
            with self._lock:
                if self.down_until is not None:
                    logger.warning("Redis answers again: the Avito token and call limit are back in Redis")
                self.down_until = None
        return result


class FailoverWindowStore:
    def __init__(self, redis: RedisWindowStore, database: DatabaseWindowStore, outage: RedisOutage):
        self.redis, self.database, self.outage = redis, database, outage

    def try_acquire(self, limit: int, window: float) -> tuple[bool, float]:
        return self.outage.run(lambda: self.redis.try_acquire(limit, window),
                               lambda: self.database.try_acquire(limit, window))

    def settle(self, granted_at: float, answered: bool = True) -> None:
        self.outage.run(lambda: self.redis.settle(granted_at, answered),
                        lambda: self.database.settle(granted_at, answered))

    def refused(self, granted_at: float, pause: float) -> None:
        self.outage.run(lambda: self.redis.refused(granted_at, pause),
                        lambda: self.database.refused(granted_at, pause))

    def used(self, window: float) -> int:
        return self.outage.run(lambda: self.redis.used(window), lambda: self.database.used(window))


class FailoverTokenBackend:
    def __init__(self, redis: RedisTokenBackend, database: DatabaseTokenBackend, outage: RedisOutage):
        self.redis, self.database, self.outage = redis, database, outage

    def read(self) -> Token | None:
        return self.outage.run(self.redis.read, self.database.read)

    def write(self, token: Token) -> None:
        self.outage.run(lambda: self.redis.write(token), lambda: self.database.write(token))

    def try_lease(self, owner: str, seconds: float) -> bool:
        return self.outage.run(lambda: self.redis.try_lease(owner, seconds),
                               lambda: self.database.try_lease(owner, seconds))

    def renew(self, owner: str, seconds: float) -> bool:
        return self.outage.run(lambda: self.redis.renew(owner, seconds),
                               lambda: self.database.renew(owner, seconds))

    def release(self, owner: str) -> None:
        self.outage.run(lambda: self.redis.release(owner), lambda: self.database.release(owner))
