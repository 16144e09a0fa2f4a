"""The Avito client of this process, built once from settings.

`get_client()` returns the process's one AvitoClient (one pooled Session, one in-flight
cap). It is rebuilt in a forked child, since a Session must not cross a fork. The token
store and rate limiter live in Redis when REDIS_URL is set, with the database behind it
while Redis is down (store_failover), else in the database.
"""
from __future__ import annotations

import copy
import os
from typing import Any, Callable

from django.conf import settings

from core.singleton import PerProcess
from messenger.avito.client import AvitoClient
from messenger.avito.rate_limiter import DatabaseWindowStore, RateLimiter, RedisWindowStore
from messenger.avito.store_failover import FailoverTokenBackend, FailoverWindowStore, RedisOutage
from messenger.avito.token_store import DatabaseTokenBackend, RedisTokenBackend, TokenStore
from messenger.avito.transport import AvitoTransport, pooled_session

REDIS_PREFIX = "avitogw:avito"  # the shared keys: `<prefix>:token`, `<prefix>:ratelimit`

_outage: RedisOutage | None = None


def avito_settings_missing() -> list[str]:
    """The Avito settings a call needs that are not set (empty when the account is configured)."""
    wanted = {"AVITO_CLIENT_ID": settings.AVITO_CLIENT_ID, "AVITO_CLIENT_SECRET": settings.AVITO_CLIENT_SECRET,
              "AVITO_USER_ID": settings.AVITO_USER_ID}
    return [name for name, value in wanted.items() if not value]


def _redis_connect():
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    # One immediate retry (a pooled socket Redis closed when it restarted), not redis-py's
    # default backoff of seconds: a Redis that is down sends the call to the database at once.
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=5, socket_connect_timeout=5,
                                retry=Retry(NoBackoff(), 1))


_redis = PerProcess(_redis_connect)


def redis_connection():
    """The process's Redis connection (None without REDIS_URL)."""
    if not settings.REDIS_URL:
        return None
    return _redis.get()


def shared_store() -> str:
    """Where this process keeps the Avito token and call limit now: redis, database (no Redis
    configured, or Redis down)."""
    outage = _outage
    if not settings.REDIS_URL or outage is None:
        return "database" if not settings.REDIS_URL else "redis"
    return outage.store


def build_client() -> AvitoClient:
    """A new client wired to this process's settings: one Session, the shared token and limit."""
    global _outage
    connection = redis_connection()
    if connection:
        _outage = RedisOutage()
        window_store = FailoverWindowStore(RedisWindowStore(connection, f"{REDIS_PREFIX}:ratelimit"),
                                           DatabaseWindowStore(), _outage)
        token_backend = FailoverTokenBackend(RedisTokenBackend(connection, f"{REDIS_PREFIX}:token"),
                                             DatabaseTokenBackend(), _outage)
    else:
        window_store, token_backend = DatabaseWindowStore(), DatabaseTokenBackend()
    limiter = RateLimiter(window_store, limit=settings.RATE_LIMIT_REQUESTS, window=settings.RATE_LIMIT_WINDOW)
    transport = AvitoTransport(
        base_url=settings.AVITO_API_BASE_URL, session=pooled_session(settings.MAX_CONNECTIONS),
        token_store=None, rate_limiter=limiter, max_connections=settings.MAX_CONNECTIONS,
        timeout=settings.CONNECTION_TIMEOUT, max_retries=settings.MAX_RETRIES,
        backoff_base=settings.RETRY_BACKOFF_BASE,
    )
    client = AvitoClient(transport, user_id=settings.AVITO_USER_ID, client_id=settings.AVITO_CLIENT_ID,
                         client_secret=settings.AVITO_CLIENT_SECRET)
    transport.token_store = TokenStore(token_backend, client.fetch_token, wait_timeout=settings.CONNECTION_TIMEOUT)
    return client


_client: PerProcess[AvitoClient] = PerProcess(build_client)


def get_client() -> AvitoClient:
    """The process's client, built on first use (and again in a forked child)."""
    return _client.get()


def client_with_limiter(wrap: Callable[[RateLimiter], Any]) -> AvitoClient:
    """The process's client (its Session, in-flight cap and token) whose calls ask `wrap(limiter)`
    for their rate-limit slot instead: background work that takes a slot only when there is room."""
    shared = get_client()
    transport = copy.copy(shared.transport)
    transport.rate_limiter = wrap(shared.transport.rate_limiter)
    client = copy.copy(shared)
    client.transport = transport
    return client


def reset_client() -> None:
    """Forget the process's client (tests change settings between cases)."""
    global _outage
    _client.reset()
    _redis.reset()
    _outage = None


def _forget_in_child() -> None:
    # The child builds its own client (PerProcess); until then its store is not the parent's outage.
    global _outage
    _outage = None


os.register_at_fork(after_in_child=_forget_in_child)
