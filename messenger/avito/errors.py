"""Errors of calls to Avito, as types: the API maps each to one JSON error in one place.

Transient failures (AvitoUnavailable, AvitoRateLimited) are the only ones worth retrying;
everything else is permanent for the request that caused it. Each error keeps the message
Avito itself returned, so the caller sees Avito's words, not ours.
"""
from __future__ import annotations

import functools


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


def redis_failures_as_unavailable(method):
    """Redis holds the shared token and call limit: without it no call to Avito can be made safely."""

    @functools.wraps(method)
    def guarded(*args, **kwargs):
        import redis

        try:
            return method(*args, **kwargs)
        except redis.exceptions.RedisError as exc:
            raise AvitoUnavailable(f"Redis, which holds the shared Avito token and call limit, failed: "
                                   f"{exc.__class__.__name__}.") from exc

    return guarded
