"""The shared rate limiter in one process: the sliding window, waiting, both stores.

That the limit holds across several OS processes is in test_multiprocess.py.
"""
from __future__ import annotations

import time

import pytest

from messenger.avito import errors, get_client, redis_connection
from messenger.avito.rate_limiter import DatabaseWindowStore, RateLimiter, RedisWindowStore
from messenger.models import RateLimitCall
from tests.avito.conftest import FakeClock

pytestmark = pytest.mark.django_db


def test_database_window_grants_n_then_says_when_the_oldest_leaves():
    clock = FakeClock(now=1_000_000.0)
    store = DatabaseWindowStore(clock=clock)
    grants = []
    for _ in range(3):
        grants.append(store.try_acquire(3, 10.0))
        clock.now += 1.0

    assert grants == [(True, 1_000_000.0), (True, 1_000_001.0), (True, 1_000_002.0)]
    assert store.try_acquire(3, 10.0) == (False, pytest.approx(7.0))  # at +3: the first leaves at +10


def test_database_window_is_closed_at_both_ends():
    clock = FakeClock(now=1_000_000.0)
    store = DatabaseWindowStore(clock=clock)
    store.try_acquire(1, 10.0)

    clock.now += 10.0  # exactly one window later the first call still counts
    assert store.try_acquire(1, 10.0)[0] is False
    clock.now += 0.001
    assert store.try_acquire(1, 10.0)[0] is True


def test_database_window_forgets_calls_older_than_the_window():
    clock = FakeClock(now=1_000_000.0)
    store = DatabaseWindowStore(clock=clock)
    for _ in range(5):
        store.try_acquire(5, 2.0)
    clock.now += 2.5

    assert store.try_acquire(5, 2.0)[0] is True
    assert RateLimitCall.objects.count() == 1


@pytest.mark.redis
def test_redis_window_grants_n_per_window_by_the_servers_clock(avito_redis, redis_prefix):
    store = RedisWindowStore(redis_connection(), key=f"{redis_prefix}:ratelimit")
    before = time.time()
    grants = [store.try_acquire(4, 0.5) for _ in range(4)]
    granted, wait = store.try_acquire(4, 0.5)

    assert all(ok for ok, _ in grants)
    assert all(before - 1 < at < time.time() + 1 for _, at in grants)  # Unix seconds from Redis TIME
    assert not granted and 0 < wait <= 0.5
    time.sleep(wait)
    assert store.try_acquire(4, 0.5)[0] is True


@pytest.mark.redis
def test_redis_window_key_expires_when_idle(avito_redis, redis_prefix):
    store = RedisWindowStore(redis_connection(), key=f"{redis_prefix}:ratelimit")
    store.try_acquire(4, 0.5)

    assert 0 < avito_redis.pttl(f"{redis_prefix}:ratelimit") <= 1500


def test_acquire_waits_for_a_slot_within_its_timeout():
    clock = FakeClock(now=1_000_000.0)
    limiter = RateLimiter(DatabaseWindowStore(clock=clock), limit=2, window=10.0, clock=clock, sleep=clock.sleep)
    limiter.acquire(timeout=5)
    clock.now += 6
    limiter.acquire(timeout=5)

    granted_at = limiter.acquire(timeout=5)  # the first call leaves the window 4 s from now

    assert granted_at == pytest.approx(1_000_010.0, abs=0.01)


def test_acquire_fails_with_rate_limited_when_the_wait_exceeds_the_timeout():
    clock = FakeClock(now=1_000_000.0)
    limiter = RateLimiter(DatabaseWindowStore(clock=clock), limit=1, window=10.0, clock=clock, sleep=clock.sleep)
    limiter.acquire(timeout=5)

    with pytest.raises(errors.AvitoRateLimited, match="1 per 10 s") as raised:
        limiter.acquire(timeout=5)
    assert raised.value.retry_after == pytest.approx(10.0)
    assert clock.now == 1_000_000.0  # it did not sit out a wait it could not finish


@pytest.mark.redis
def test_the_client_counts_calls_in_redis_when_redis_url_is_set(avito_redis, redis_prefix, settings):
    settings.RATE_LIMIT_REQUESTS, settings.RATE_LIMIT_WINDOW = 2, 60
    limiter = get_client().transport.rate_limiter

    limiter.acquire(timeout=1)
    limiter.acquire(timeout=1)
    with pytest.raises(errors.AvitoRateLimited):
        limiter.acquire(timeout=1)
    assert avito_redis.zcard(f"{redis_prefix}:ratelimit") == 2
    assert not RateLimitCall.objects.exists()


@pytest.mark.redis
def test_redis_window_is_exact_to_the_microsecond(avito_redis, redis_prefix):
    """Grant times near 1.8e15 microseconds: a bound written into the script as text (Lua prints 14
    digits) was rounded to 100 us, and let a sixth call into a window of five (seen in CI)."""
    key = f"{redis_prefix}:ratelimit"
    held = [1796014072590262, 1796014072590377, 1796014073089370, 1796014073089863, 1796014073089905]
    avito_redis.zadd(key, {f"call-{n}": at for n, at in enumerate(held)})
    store = RedisWindowStore(redis_connection(), key=key, clock=lambda: 1796014073090253 / 1_000_000)

    granted, wait = store.try_acquire(5, 0.5)
    assert not granted  # the first call, 499,991 us earlier, is still in the window
    assert wait == pytest.approx(10e-6, abs=2e-6)  # it leaves in 10 us


def test_database_window_counts_calls_used_without_taking_a_slot():
    clock = FakeClock(now=1_000_000.0)
    limiter = RateLimiter(DatabaseWindowStore(clock=clock), limit=3, window=10.0, clock=clock, sleep=clock.sleep)
    limiter.acquire(timeout=1)
    clock.now += 6.0
    limiter.acquire(timeout=1)

    assert limiter.used() == 2
    assert limiter.used() == 2  # reading took nothing
    clock.now += 5.0  # the first call has left the window
    assert limiter.used() == 1


@pytest.mark.redis
def test_redis_window_counts_calls_used_without_taking_a_slot(avito_redis, redis_prefix):
    key = f"{redis_prefix}:ratelimit"
    clock = FakeClock(now=1_000_000.0)
    limiter = RateLimiter(RedisWindowStore(redis_connection(), key=key, clock=clock), limit=3, window=10.0,
                          clock=clock, sleep=clock.sleep)
    limiter.acquire(timeout=1)
    clock.now += 6.0
    limiter.acquire(timeout=1)

    assert limiter.used() == 2
    assert avito_redis.zcard(key) == 2
    clock.now += 5.0
    assert limiter.used() == 1
