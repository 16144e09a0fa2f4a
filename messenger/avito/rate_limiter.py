"""The Avito call limit shared by every process and host: at most N calls in any W seconds.

A sliding-window log: each granted call is recorded with its time, calls older than the
window are forgotten, and a call is granted only while fewer than N remain. Two stores:
Redis (one atomic Lua script, timed by the Redis server's own clock so hosts agree) and,
without Redis, the database (a short transaction serialized by a row lock on PostgreSQL
and by SQLite's IMMEDIATE write lock), which holds across the processes of one machine.
A caller waits for a slot within its timeout instead of failing at once.
"""
from __future__ import annotations

import time
import uuid
from typing import Callable, Protocol

from django.db import transaction

from messenger.avito.errors import AvitoRateLimited

# Returns 0 when the call is granted, else microseconds until the oldest call leaves the window.
SLIDING_WINDOW_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. (now - window))
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000) + 1000)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, tonumber(oldest[2]) + window - now + 1)
"""


class WindowStore(Protocol):
    def try_acquire(self, limit: int, window: float) -> float:
        """Take a slot and return 0, or take nothing and return the seconds to wait."""


class RedisWindowStore:
    def __init__(self, redis_client, key: str = "avitogw:avito:ratelimit"):
        self.key = key
        self.script = redis_client.register_script(SLIDING_WINDOW_LUA)

    def try_acquire(self, limit: int, window: float) -> float:
        micros = self.script(keys=[self.key], args=[limit, int(window * 1_000_000), uuid.uuid4().hex])
        return int(micros) / 1_000_000


class DatabaseWindowStore:
    def __init__(self, clock: Callable[[], float] = time.time):
        self.clock = clock

    def try_acquire(self, limit: int, window: float) -> float:
        from messenger.models import RateLimitCall, RateLimitLock

        with transaction.atomic():
            RateLimitLock.objects.select_for_update().get_or_create(id=1)
            now = self.clock()
            RateLimitCall.objects.filter(at__lt=now - window).delete()
            in_window = list(RateLimitCall.objects.order_by("at").values_list("at", flat=True)[:limit])
            if len(in_window) < limit:
                RateLimitCall.objects.create(at=now)
                return 0.0
            return max(0.001, in_window[0] + window - now)


class RateLimiter:
    def __init__(self, store: WindowStore, *, limit: int, window: float,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep):
        self.store, self.limit, self.window = store, limit, window
        self.clock, self.sleep = clock, sleep

    def acquire(self, timeout: float) -> None:
        """Block until a call slot is ours, or raise AvitoRateLimited after `timeout` seconds."""
        deadline = self.clock() + timeout
        while True:
            wait = self.store.try_acquire(self.limit, self.window)
            if wait <= 0:
                return
            remaining = deadline - self.clock()
            if wait > remaining:
                raise AvitoRateLimited(
                    f"Avito call limit of {self.limit} per {self.window:g} s reached; no slot within {timeout:g} s.",
                    retry_after=wait,
                )
            self.sleep(wait)
