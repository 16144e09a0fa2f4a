"""Errors of calls to Avito, as types: the API maps each to one JSON error in one place.

Transient failures (AvitoUnavailable, AvitoRateLimited) are the only ones worth retrying;
everything else is permanent for the request that caused it. A failure of our own store of
the token and call limit (Redis, the database) is not Avito's: it is a StoreUnavailable, a
`DependencyUnavailable` (503) of the gateway's own error types. Each error keeps the message
Avito itself returned, so the caller sees Avito's words, not ours.
"""
from __future__ import annotations

import functools

from core.errors import DependencyUnavailable


class AvitoError(Exception):
    """Base of every failure talking to Avito."""

    transient = False

    def __init__(self, message: str, *, status: int | None = None, details: dict | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.details = details


class AvitoAuthError(AvitoError):
    """Avito refused our credentials or token even after one refresh."""


class AvitoNotFound(AvitoError):
    """The chat, message or account does not exist on Avito (404)."""


class AvitoRejected(AvitoError):
    """Avito refused the request itself (400 and other 4xx): sending it again will not help."""


class AvitoIdInvalid(AvitoError):
    """An id that is not in Avito's id shape: refused before any call, so it cannot alter the URL."""


class AvitoUnavailable(AvitoError):
    """Avito failed (5xx, connection error) after every retry."""

    transient = True


class AvitoTimeout(AvitoUnavailable):
    """Avito did not answer within CONNECTION_TIMEOUT after every retry."""


class AvitoRateLimited(AvitoError):
    """No call slot within the caller's timeout, or Avito kept answering 429."""

    transient = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class StoreUnavailable(DependencyUnavailable):
    """The shared store of the token and the call limit failed: our own dependency, not Avito (503)."""

    transient = True  # a worker retries later, as it would for a transient Avito failure


class RedisUnavailable(StoreUnavailable):
    """Redis failed; with a database behind it (store_failover) the call goes on there instead."""


def redis_failures_as_unavailable(method):
    """A Redis failure becomes RedisUnavailable, which the failover store catches and bridges."""

    @functools.wraps(method)
    def guarded(*args, **kwargs):
        import redis

        try:
            return method(*args, **kwargs)
        except redis.exceptions.RedisError as exc:
            raise RedisUnavailable(f"Redis, which holds the shared Avito token and call limit, failed: "
                                   f"{exc.__class__.__name__}.") from exc

    return guarded


def database_failures_as_unavailable(method):
    """The database holds the token and call limit without Redis (or while Redis is down): when it
    fails too, no call to Avito can be made safely, and the caller gets 503, not a 500 or a 502.
    A connection that only died with a restart is replaced first, and the step done again on it."""

    @functools.wraps(method)
    def guarded(*args, **kwargs):
        from django.db import DatabaseError

        from core.database_outage import on_new_connection_if_dropped

        try:
            return on_new_connection_if_dropped(lambda: method(*args, **kwargs))
        except DatabaseError as exc:
            raise StoreUnavailable(f"The database, which holds the shared Avito token and call limit, failed: "
                                   f"{exc.__class__.__name__}.") from exc

    return guarded
