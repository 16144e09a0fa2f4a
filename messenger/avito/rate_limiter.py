"""The Avito call limit shared by every process and host: at most N calls in any W seconds.

A sliding-window log: each granted call is recorded with its time, calls older than the
window are forgotten, and a call is granted only while fewer than N remain, so no window
of W seconds, wherever it starts, holds more than N grants. Two stores:

- Redis: one atomic Lua script, timed by the Redis server's own clock so hosts agree.
- The database (no Redis): a short transaction serialized by a row lock on PostgreSQL
  (timed by the database server's clock, so it holds across hosts too) and by SQLite's
  IMMEDIATE write lock (settings.py), which holds across the processes of one machine.

A caller waits for a slot within its timeout instead of failing at once. When Avito has
answered, the call's entry is moved to that moment (`settle`), so the window is measured
from when Avito surely counted the call, not from when we were allowed to make it.
"""
from __future__ import annotations

import logging
import time
import uuid
from typing import Callable, Protocol

from django.db import connection, transaction
from django.db.models import Min

from messenger.avito.errors import AvitoRateLimited, redis_failures_as_unavailable

logger = logging.getLogger(__name__)

# Returns {1, grant time} or {0, wait until the oldest call leaves the window}, in microseconds.
# ARGV[4], the time, is for tests; the limiter always uses the Redis server's clock.
SLIDING_WINDOW_LUA = """
local now
if ARGV[4] then
  now = tonumber(ARGV[4])
else
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local window = tonumber(ARGV[2])
-- Numbers, not text: Lua writes a number into a string with 14 digits, 100 us at this size.
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window - 1)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000) + 1000)
  return {1, now}
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {0, math.max(1, tonumber(oldest[2]) + window - now + 1)}
"""

# Moves the entry granted at ARGV[1] (microseconds) to now: the call has been answered.
SETTLE_LUA = """
local members = redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[1], ARGV[1], 'LIMIT', 0, 1)
if #members == 0 then return 0 end
local t = redis.call('TIME')
redis.call('ZADD', KEYS[1], 'XX', tonumber(t[1]) * 1000000 + tonumber(t[2]), members[1])
return 1
"""


class WindowStore(Protocol):
    def try_acquire(self, limit: int, window: float) -> tuple[bool, float]:
        """(True, grant time as Unix seconds) when a slot is taken, else (False, seconds to wait)."""

    def settle(self, granted_at: float) -> None:
        """Move the entry granted at `granted_at` to now (the store's clock)."""

    def used(self, window: float) -> int:
        """How many calls the current window holds, without taking a slot."""


class RedisWindowStore:
    def __init__(self, redis_client, key: str = "avitogw:avito:ratelimit", clock: Callable[[], float] | None = None):
        self.key, self.redis = key, redis_client
        self.clock = clock  # None: the Redis server's clock, so that every host agrees
        self.script = redis_client.register_script(SLIDING_WINDOW_LUA)
        self.settle_script = redis_client.register_script(SETTLE_LUA)

    @redis_failures_as_unavailable
    def try_acquire(self, limit: int, window: float) -> tuple[bool, float]:
        args = [limit, int(window * 1_000_000), uuid.uuid4().hex]
        if self.clock is not None:
            args.append(round(self.clock() * 1_000_000))
        granted, micros = self.script(keys=[self.key], args=args)
        return bool(granted), int(micros) / 1_000_000

    @redis_failures_as_unavailable
    def settle(self, granted_at: float) -> None:
        self.settle_script(keys=[self.key], args=[round(granted_at * 1_000_000)])

    @redis_failures_as_unavailable
    def used(self, window: float) -> int:
        now = self.clock() if self.clock is not None else self._server_time()
        since = round((now - window) * 1_000_000)
        return int(self.redis.zcount(self.key, since, "+inf"))

    def _server_time(self) -> float:
        seconds, micros = self.redis.time()
        return seconds + micros / 1_000_000


class DatabaseWindowStore:
    def __init__(self, clock: Callable[[], float] | None = None):
        self.clock = clock  # None: the database server's clock on PostgreSQL, else this machine's

    def now(self) -> float:
        if self.clock is not None:
            return self.clock()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT EXTRACT(EPOCH FROM clock_timestamp())")
                return float(cursor.fetchone()[0])
        return time.time()

    def try_acquire(self, limit: int, window: float) -> tuple[bool, float]:
        from messenger.models import RateLimitCall, RateLimitLock

        with transaction.atomic():
            RateLimitLock.objects.select_for_update().get_or_create(id=1)
            now = self.now()  # read under the lock, so grant times follow the order of the lock
            RateLimitCall.objects.filter(at__lt=now - window).delete()
            if RateLimitCall.objects.count() < limit:
                RateLimitCall.objects.create(at=now)
                return True, now
            oldest = RateLimitCall.objects.aggregate(oldest=Min("at"))["oldest"]
            return False, max(0.001, oldest + window - now)

    def settle(self, granted_at: float) -> None:
        from messenger.models import RateLimitCall

        call = RateLimitCall.objects.filter(at=granted_at).values_list("id", flat=True).first()
        if call is not None:
            RateLimitCall.objects.filter(id=call).update(at=self.now())

    def used(self, window: float) -> int:
        from messenger.models import RateLimitCall

        return RateLimitCall.objects.filter(at__gte=self.now() - window).count()


class RateLimiter:
    def __init__(self, store: WindowStore, *, limit: int, window: float,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep):
        self.store, self.limit, self.window = store, limit, window
        self.clock, self.sleep = clock, sleep

    def acquire(self, timeout: float) -> float:
        """Block until a call slot is ours and return its grant time (the store's clock).

        Raises AvitoRateLimited, with the wait as `retry_after`, when no slot comes within `timeout`.
        """
        deadline = self.clock() + timeout
        while True:
            granted, value = self.store.try_acquire(self.limit, self.window)
            if granted:
                return value
            if value > deadline - self.clock():
                raise AvitoRateLimited(
                    f"Avito call limit of {self.limit} per {self.window:g} s reached; no slot within {timeout:g} s.",
                    retry_after=value,
                )
            self.sleep(value)

    def used(self) -> int:
        """Calls granted in the current window (read only: for the admin's status board)."""
        return self.store.used(self.window)

    def try_acquire(self, cap: int) -> float | None:
        """A slot now, only while the window holds fewer than `cap` calls (never waits): its grant
        time, or None. Background work that must leave room for everyone else asks this way."""
        granted, value = self.store.try_acquire(min(cap, self.limit), self.window)
        return value if granted else None

    def settle(self, granted_at: float) -> None:
        """The call granted at `granted_at` has been answered: it counts from now, not from its grant.

        Avito counts a call when it arrives, which is some time after the grant. Counting it
        until the answer is back means the next call to reuse its slot cannot reach Avito
        within the window, however the two calls were delayed on the way (a busy CPU, a
        slow network); without this, a limiter running at its ceiling drew 429s from Avito.
        A failure here is only logged: the call itself has already been made.
        """
        try:
            self.store.settle(granted_at)
        except Exception:  # noqa: BLE001 - the slot then counts from its grant, as before
            logger.warning("Could not move a rate-limit entry to its call's end", exc_info=True)
