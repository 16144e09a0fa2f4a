"""The events doorbell: one Celery wake-up per burst of notifications instead of one per event.

Publishing a Celery task costs the webhook's process about ten times the CPU of a Redis
SET (measured: ~0.33 ms against ~0.03 ms), and during a burst one wake-up is enough,
because the woken task drains the pending events, and on a backlog wakes a few more
drains to work beside it (webhooks.services.events_drain). The bell is a Redis key. After its
commit, a stored event rings it (SET NX) and publishes the drain only when it was the one
to set it; the drain clears it *before* it looks for pending events. So an event committed
after the clearing rings again, and one committed before it is found by that drain:
none is left waiting. A drain lost with a killed worker leaves the bell set for BELL_TTL at
most; the sweep covers that gap. Without Redis there is no bell: every event publishes.
"""
from __future__ import annotations

import logging
import os
import threading

from django.conf import settings

logger = logging.getLogger(__name__)

BELL_KEY = "avitogw:webhooks:events-bell"  # + the database's name: the bell is about its pending events
BELL_TTL = 10  # seconds
# The webhook must answer Avito in 2 s: a Redis that hangs must not hold it for longer.
REDIS_TIMEOUT = 0.5


class _ThreadBell(threading.local):
    """Each thread's own Redis connection and the ring, packed once: the ring is on the webhook's
    hot path, and a pooled client spends more CPU than the round trip itself (benchmarks.md)."""
    pid = 0
    connection = None
    ring = b""


_bell = _ThreadBell()


def _key() -> str:
    return f"{BELL_KEY}:{settings.DATABASES['default']['NAME']}"


def _connection():
    """This thread's connection (new after a fork: a child must not share its parent's socket)."""
    if _bell.connection is None or _bell.pid != os.getpid():
        import redis

        client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=REDIS_TIMEOUT,
                                      socket_connect_timeout=REDIS_TIMEOUT, single_connection_client=True)
        _bell.connection, _bell.pid = client.connection, os.getpid()
        _bell.ring = client.connection.pack_command("SET", _key(), 1, "NX", "EX", BELL_TTL)
    return _bell.connection


def _disconnect() -> None:
    """After any failure, whatever state the socket is in: the next use builds a new connection
    (a Redis that restarted must not be talked to through the socket of the one that died)."""
    if _bell.connection is not None and _bell.pid == os.getpid():
        try:
            _bell.connection.disconnect()
        except Exception:  # noqa: BLE001 - it is being dropped anyway
            pass
    _bell.connection = None


def bell_ring() -> bool | None:
    """Ring after an event is stored: True to publish a drain, False when one is on its way,
    None when there is no bell (no Redis, or Redis failing): publish the event's own wake-up."""
    if not settings.REDIS_URL:
        return None
    for fresh in (False, True):  # a socket to a Redis that restarted fails once: then a new one
        try:
            connection = _connection()
            connection.send_packed_command(_bell.ring, check_health=False)
            return connection.read_response() is not None  # SET NX answers OK, or nil when the key was set
        except Exception:  # noqa: BLE001 (any Redis failure: fall back to a wake-up per event)
            _disconnect()
            if fresh:
                logger.warning("The events doorbell failed; waking the worker for this event alone", exc_info=True)
    return None


def bell_answer() -> None:
    """The drain starts: later events must ring again."""
    if not settings.REDIS_URL:
        return
    try:
        connection = _connection()
        connection.send_command("DEL", _key())
        connection.read_response()
    except Exception:  # noqa: BLE001 (the bell expires by itself after BELL_TTL)
        _disconnect()
        logger.warning("Could not clear the events doorbell", exc_info=True)


def bell_reset() -> None:
    """Forget this thread's connection (tests change REDIS_URL and the database's name)."""
    _bell.connection = None
