"""Fixtures of the Avito client tests: the process's client with recorded pauses, real Redis."""
from __future__ import annotations

import pytest

from messenger.avito import get_client, reset_client

# Not database 15 (tests/conftest.py's `redis_url`, flushed by other suites running at the
# same time): our multi-process tests must not lose their keys halfway.
AVITO_REDIS_URL = "redis://127.0.0.1:6379/14"
AVITO_KEYS = "avitogw:avito:*"


@pytest.fixture
def pauses():
    """The pauses the client would have slept, in order (nothing really sleeps)."""
    return []


@pytest.fixture
def client(gateway_settings, pauses):
    """The process's AvitoClient as services get it, with no real sleeping and jitter fixed at 0.5."""
    avito_client = get_client()
    avito_client.transport.sleep = pauses.append
    avito_client.transport.jitter = lambda: 0.5
    return avito_client


def _clear(connection) -> None:
    keys = list(connection.scan_iter(AVITO_KEYS))
    if keys:
        connection.delete(*keys)


@pytest.fixture
def avito_redis(settings):
    """REDIS_URL pointing at the real Redis, with the client's keys cleared before and after."""
    import redis

    connection = redis.Redis.from_url(AVITO_REDIS_URL)
    try:
        connection.ping()
    except redis.exceptions.ConnectionError:
        pytest.fail("Redis is not running on 127.0.0.1:6379")
    _clear(connection)
    settings.REDIS_URL = AVITO_REDIS_URL
    reset_client()
    yield connection
    reset_client()
    _clear(connection)
