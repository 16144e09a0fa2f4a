"""The Avito call limit shared by every process and host: at most N calls in any W seconds.

A sliding-window log: each granted call is recorded with its time, calls older than the
window are forgotten, and a call is granted only while fewer than N remain, so no window
of W seconds, wherever it starts, holds more than N grants. Two stores:

- Redis: one atomic Lua script, timed by the Redis server's own clock so hosts agree.
- The database (no Redis): a short transaction serialized by a row lock on PostgreSQL
  (timed by the database server's clock, so it holds across hosts too) and by SQLite's
  IMMEDIATE write lock (avitogw/settings/base.py), which holds across the processes of one machine.

A caller waits for a slot within its timeout instead of failing at once. When Avito has
answered, the call's entry is moved to that moment (`settle`), so the window is measured
from when Avito surely counted the call, not from when we were allowed to make it.

When Avito answers 429 anyway (`refused`), the store pauses every caller of every process
until its Retry-After (or a backoff) has passed, and the refused call's entry is removed,
so it takes no slot from the next window. When the pause ends, one call goes first (the
probe) and holds the others for up to PROBE_SECONDS; its answer ends the pause, and a new
429 starts another. So a storm costs about one refused call per pause, not one per caller
per retry.
"""
from __future__ import annotations

import logging
import time
import uuid
from typing import Callable, Protocol

from django.db import connection, transaction
from django.db.models import Min

from messenger.avito.errors import AvitoRateLimited, database_failures_as_unavailable, redis_failures_as_unavailable

logger = logging.getLogger(__name__)

# Returns {1, grant time} or {0, wait until the oldest call leaves the window or the pause ends},
# in microseconds. KEYS: the window, the pause. ARGV: limit, window, member, probe hold, and the
# time (for tests; else the Redis server's clock). A pause whose time has passed lets one call
# through (the probe) and holds the others for the probe hold, until an answer ends it.
SLIDING_WINDOW_LUA = """
local now
if ARGV[5] then
  now = tonumber(ARGV[5])
else
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local paused = tonumber(redis.call('HGET', KEYS[2], 'until'))
if paused and now < paused then
  return {0, paused - now}
end
local window = tonumber(ARGV[2])
-- Numbers, not text: Lua writes a number into a string with 14 digits, 100 us at this size.
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window - 1)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000) + 1000)
  if paused then
    redis.call('HSET', KEYS[2], 'until', now + tonumber(ARGV[4]), 'probing', 1)
  end
  return {1, now}
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {0, math.max(1, tonumber(oldest[2]) + window - now + 1)}
"""

# The call granted at ARGV[1] (microseconds) has ended: its entry moves to now. ARGV[2] = '1'
# when Avito answered (not 429): a probe's answer ends the pause.
SETTLE_LUA = """
if ARGV[2] == '1' and redis.call('HGET', KEYS[2], 'probing') == '1' then
  redis.call('DEL', KEYS[2])
end
local members = redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[1], ARGV[1], 'LIMIT', 0, 1)
if #members == 0 then return 0 end
local t = redis.call('TIME')
redis.call('ZADD', KEYS[1], 'XX', tonumber(t[1]) * 1000000 + tonumber(t[2]), members[1])
return 1
"""

# Avito refused the call granted at ARGV[1] (429): its entry leaves the window, and every caller
# pauses ARGV[2] microseconds from now (a longer pause already set stays). ARGV[3]: the time, for tests.
REFUSED_LUA = """
local members = redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[1], ARGV[1], 'LIMIT', 0, 1)
if #members > 0 then redis.call('ZREM', KEYS[1], members[1]) end
local now
if ARGV[3] then
  now = tonumber(ARGV[3])
else
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local till = now + tonumber(ARGV[2])
local paused = tonumber(redis.call('HGET', KEYS[2], 'until'))
if paused and paused > till and redis.call('HGET', KEYS[2], 'probing') ~= '1' then till = paused end
redis.call('HSET', KEYS[2], 'until', till, 'probing', 0)
redis.call('PEXPIRE', KEYS[2], math.ceil(tonumber(ARGV[2]) / 1000) + 3600000)
return 1
"""

PROBE_SECONDS = 1.0  # after a pause, how long the first call holds the others back while it tries


class WindowStore(Protocol):
    def try_acquire(self, limit: int, window: float) -> tuple[bool, float]:
        """(True, grant time as Unix seconds) when a slot is taken, else (False, seconds to wait)."""

    def settle(self, granted_at: float, answered: bool = True) -> None:
        """Move the entry granted at `granted_at` to now (the store's clock); an answer ends a probed pause."""

    def refused(self, granted_at: float, pause: float) -> None:
        """Avito refused the call (429): drop its entry and pause every caller `pause` seconds."""

    def used(self, window: float) -> int:
        """How many calls the current window holds, without taking a slot."""


class RedisWindowStore:
    def __init__(self, redis_client, key: str = "avitogw:avito:ratelimit", clock: Callable[[], float] | None = None):
        self.key, self.pause_key, self.redis = key, key + ":pause", redis_client
        self.clock = clock  # None: the Redis server's clock, so that every host agrees
        self.script = redis_client.register_script(SLIDING_WINDOW_LUA)
        self.settle_script = redis_client.register_script(SETTLE_LUA)
        self.refused_script = redis_client.register_script(REFUSED_LUA)

    @redis_failures_as_unavailable
    def try_acquire(self, limit: int, window: float) -> tuple[bool, float]:
        args = [limit, int(window * 1_000_000), uuid.uuid4().hex, int(PROBE_SECONDS * 1_000_000)]
        if self.clock is not None:
            args.append(round(self.clock() * 1_000_000))
        granted, micros = self.script(keys=[self.key, self.pause_key], args=args)
        return bool(granted), int(micros) / 1_000_000

    @redis_failures_as_unavailable
    def settle(self, granted_at: float, answered: bool = True) -> None:
        self.settle_script(keys=[self.key, self.pause_key], args=[round(granted_at * 1_000_000), int(answered)])

    @redis_failures_as_unavailable
    def refused(self, granted_at: float, pause: float) -> None:
        args = [round(granted_at * 1_000_000), max(1, round(pause * 1_000_000))]
        if self.clock is not None:
            args.append(round(self.clock() * 1_000_000))
        self.refused_script(keys=[self.key, self.pause_key], args=args)

    @redis_failures_as_unavailable
    def used(self, window: float) -> int:
        now = self.clock() if self.clock is not None else self._server_time()
        since = round((now - window) * 1_000_000)
        return int(self.redis.zcount(self.key, since, "+inf"))

    def _server_time(self) -> float:
        seconds, micros = self.redis.time()
        return seconds + micros / 1_000_000


class DatabaseWindowStore:
    """One account's window (`account_key`): its RateLimitCall rows, serialized by its RateLimitLock row."""

    def __init__(self, clock: Callable[[], float] | None = None, *, account_key: str = "default"):
        self.clock = clock  # None: the database server's clock on PostgreSQL, else this machine's
        self.account_key = account_key

    def _lock_row(self):
        from messenger.models import RateLimitLock

        lock, _ = RateLimitLock.objects.select_for_update().get_or_create(account_key=self.account_key)
        return lock

    def _calls(self):
        from messenger.models import RateLimitCall

        return RateLimitCall.objects.filter(account_key=self.account_key)

    def now(self) -> float:
        if self.clock is not None:
            return self.clock()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT EXTRACT(EPOCH FROM clock_timestamp())")
                return float(cursor.fetchone()[0])
        return time.time()

    @database_failures_as_unavailable
    def try_acquire(self, limit: int, window: float) -> tuple[bool, float]:
        from messenger.models import RateLimitCall, RateLimitLock

        with transaction.atomic():
            lock = self._lock_row()
            now = self.now()  # read under the lock, so grant times follow the order of the lock
            if lock.paused_until and now < lock.paused_until:
                return False, lock.paused_until - now
            self._calls().filter(at__lt=now - window).delete()
            if self._calls().count() < limit:
                RateLimitCall.objects.create(at=now, account_key=self.account_key)
                if lock.paused_until:  # the pause is over: this call probes, the others wait for it
                    RateLimitLock.objects.filter(pk=lock.pk).update(paused_until=now + PROBE_SECONDS, probing=True)
                return True, now
            oldest = self._calls().aggregate(oldest=Min("at"))["oldest"]
            return False, max(0.001, oldest + window - now)

    @database_failures_as_unavailable
    def settle(self, granted_at: float, answered: bool = True) -> None:
        from messenger.models import RateLimitCall, RateLimitLock

        if answered:
            RateLimitLock.objects.filter(account_key=self.account_key, probing=True).update(paused_until=0,
                                                                                            probing=False)
        call = self._calls().filter(at=granted_at).values_list("id", flat=True).first()
        if call is not None:
            RateLimitCall.objects.filter(id=call).update(at=self.now())

    def used(self, window: float) -> int:
        return self._calls().filter(at__gte=self.now() - window).count()

    @database_failures_as_unavailable
    def refused(self, granted_at: float, pause: float) -> None:
        from messenger.models import RateLimitCall, RateLimitLock

        with transaction.atomic():
            lock = self._lock_row()
            call = self._calls().filter(at=granted_at).values_list("id", flat=True).first()
            if call is not None:
                RateLimitCall.objects.filter(id=call).delete()
            until = self.now() + pause
            if lock.paused_until > until and not lock.probing:
                until = lock.paused_until
            RateLimitLock.objects.filter(pk=lock.pk).update(paused_until=until, probing=False)


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
                    f"No Avito call slot within {timeout:g} s: the limit, {self.limit} per "
                    f"{self.window:g} s, is reached, or Avito asked every caller to wait.",
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

    def settle(self, granted_at: float, *, answered: bool = True) -> None:
        """The call granted at `granted_at` has been answered: it counts from now, not from its grant.

        Avito counts a call when it arrives, which is some time after the grant. Counting it
        until the answer is back means the next call to reuse its slot cannot reach Avito
        within the window, however the two calls were delayed on the way (a busy CPU, a
        slow network); without this, a limiter running at its ceiling drew 429s from Avito.
        An answer from Avito (`answered`) also ends a pause that a probe was testing.
        A failure here is only logged: the call itself has already been made.
        """
        try:
            self.store.settle(granted_at, answered)
        except Exception:  # noqa: BLE001 - the slot then counts from its grant, as before
            logger.warning("Could not move a rate-limit entry to its call's end", exc_info=True)

    def refused(self, granted_at: float, pause: float) -> None:
        """Avito answered 429: every process waits `pause` seconds (then one call probes), and the
        refused call gives its slot back, so a storm of 429s does not fill the next window.
        A failure here is only logged: the caller still backs off on its own."""
        try:
            self.store.refused(granted_at, pause)
        except Exception:  # noqa: BLE001
            logger.warning("Could not record Avito's 429 in the shared rate limiter", exc_info=True)
