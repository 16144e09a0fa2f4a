"""Fixtures of the Avito client tests: the process's client with recorded pauses, real Redis."""
from __future__ import annotations

import uuid

import pytest

import messenger.avito
from messenger.avito import get_client, reset_client

# Not database 15 (tests/conftest.py's `redis_url`, flushed by other suites running at the
# same time), and keys of our own per test: two runs of this suite at once must not share a
# limit or a token.
AVITO_REDIS_URL = "redis://127.0.0.1:6379/14"


class FakeClock:
    """A clock for the client, limiter and stores: a pause moves the time on (and is recorded in
    `pauses` if given); nothing really sleeps."""

    def __init__(self, pauses: list | None = None, *, now: float = 1000.0):
        self.now, self.pauses = now, pauses

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        if self.pauses is not None:
            self.pauses.append(seconds)
        self.now += seconds


@pytest.fixture
def pauses():
    """The pauses the client would have slept, in order (nothing really sleeps)."""
    return []


@pytest.fixture
def client(gateway_settings, pauses):
    """The process's AvitoClient as services get it, on a fake clock, with jitter fixed at 0.5."""
    avito_client = get_client()
    clock = FakeClock(pauses)
    avito_client.transport.clock, avito_client.transport.sleep = clock, clock.sleep
    avito_client.transport.jitter = lambda: 0.5
    return avito_client


@pytest.fixture
def redis_prefix(monkeypatch):
    """A key namespace of this test's own for the shared token and limit."""
    prefix = f"avitogw-test:{uuid.uuid4().hex[:12]}"
    monkeypatch.setattr(messenger.avito, "REDIS_PREFIX", prefix)
    return prefix


@pytest.fixture
def avito_redis(settings, redis_prefix):
    """REDIS_URL pointing at the real Redis; the test's keys are removed afterwards."""
    import redis

    connection = redis.Redis.from_url(AVITO_REDIS_URL)
    try:
        connection.ping()
    except redis.exceptions.ConnectionError:
        pytest.fail("Redis is not running on 127.0.0.1:6379")
    settings.REDIS_URL = AVITO_REDIS_URL
    reset_client()
    yield connection
    reset_client()
    keys = list(connection.scan_iter(f"{redis_prefix}:*"))
    if keys:
        connection.delete(*keys)
