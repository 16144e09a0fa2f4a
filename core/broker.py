"""The embedded Celery broker of a gateway without Redis: kombu's SQLAlchemy transport over SQLite.

Why this one: kombu's `filesystem://` transport, the previous default, let a reader open a
message file before its writer had filled it (celery/kombu#1551); the worker then died with
`Unrecoverable error: JSONDecodeError` during a burst of webhooks. Here a message is a row,
written in one transaction, so a reader sees all of it or nothing, and SQLite's write lock
serializes the web processes that publish and the worker that takes messages. It needs no
server, only SQLAlchemy (the transport's one dependency), and a file beside the database.

`CELERY_BROKER_URL=sqla+<SQLAlchemy URL>` selects it (the default without Redis is
`sqla+sqlite:///<DATA_DIR>/broker.sqlite3`). avitogw/celery.py registers this module's transport
for the `sqla` scheme. Its channel changes four things in kombu's:
- a message is deleted when taken, not kept forever with `visible=False` (the table would
  grow by one row per wake-up; an unacknowledged message is still held by the worker and
  given back at a graceful stop, as every virtual transport does);
- a row whose payload is not readable JSON is logged and dropped instead of raising in the
  worker's consumer, so one bad message never stops a worker;
- the SQLite file's folder is made when the broker is first opened (nothing at import), the
  file runs in WAL mode, and a writer waits up to BUSY_TIMEOUT for the lock;
- a worker whose slots are all busy checks for a free one every SLOT_POLL, without asking the
  database, instead of sleeping a whole polling interval after each task.
Celery messages are only wake-ups (the rows are the source of truth, and the sweep re-sends
a lost one), so a message dropped here costs a few seconds, never an event.
"""
from __future__ import annotations

import json
import logging
import os
import socket
from pathlib import Path
from queue import Empty
from time import monotonic, sleep

from kombu.transport import sqlalchemy as kombu_sqla
from kombu.utils.encoding import bytes_to_str

logger = logging.getLogger(__name__)

BUSY_TIMEOUT = 30  # seconds a process waits for SQLite's write lock before the call fails
SLOT_POLL = 0.002  # seconds between looks for a free slot while all of the worker's slots are busy


def _sqlite_file(url: str) -> Path | None:
    prefix = "sqlite:///"
    if not url.startswith(prefix) or url[len(prefix):] in ("", ":memory:"):
        return None
    return Path(url[len(prefix):])


class Channel(kombu_sqla.Channel):
    _engines: dict = {}  # this module's own cache (emptied in a forked child: a connection must not cross a fork)

    def _engine_from_config(self):
        from sqlalchemy import create_engine, event

        options = {key: value for key, value in self.connection.client.transport_options.items()
                   if key not in ("queue_tablename", "message_tablename", "callback", "errback", "max_retries",
                                  "interval_start", "interval_step", "interval_max", "retry_errors",
                                  "polling_interval")}
        url = self.connection.client.hostname
        path = _sqlite_file(url)
        if path is None:
            return create_engine(url, **options)
        path.parent.mkdir(parents=True, exist_ok=True)
        options.setdefault("connect_args", {}).setdefault("timeout", BUSY_TIMEOUT)
        engine = create_engine(url, **options)

        @event.listens_for(engine, "connect")
        def _wal(dbapi_connection, _record):
            dbapi_connection.execute("PRAGMA journal_mode=WAL")

        return engine

    waiting_for_slot = False  # every prefetched message is still being worked on: nothing to ask for

    def drain_events(self, timeout=None, callback=None):
        self.waiting_for_slot = bool(self._consumers) and not self.qos.can_consume()
        return super().drain_events(timeout=timeout, callback=callback)

    def _queue_id(self, queue: str) -> int:
        """The queue's row id (queues are never deleted: looked up once per channel)."""
        ids = self.__dict__.setdefault("_queue_ids", {})
        if queue not in ids:
            ids[queue] = self._get_or_create(queue).id
        return ids[queue]

    def _get(self, queue):
        """Take the oldest message of `queue`: one `DELETE ... RETURNING`, so a message is taken once.

        An idle worker polls every queue many times a second: a plain read (which takes no
        lock in WAL mode) comes first, and only a queue with a message is written to.
        """
        from sqlalchemy import text

        table = self.message_cls.__tablename__
        queue_id = self._queue_id(queue)
        session = self.session
        try:
            waiting = session.execute(text(f"SELECT 1 FROM {table} WHERE queue_id = :queue LIMIT 1"),
                                      {"queue": queue_id}).first()
            row = None
            if waiting is not None:
                row = session.execute(text(
                    f"DELETE FROM {table} WHERE id = (SELECT id FROM {table} WHERE queue_id = :queue "
                    f"ORDER BY id LIMIT 1) RETURNING id, payload"), {"queue": queue_id}).first()
            session.commit()
        except Exception:
            session.rollback()
            raise
        if row is None:
            raise Empty()
        message_id, payload = row
        try:
            return json.loads(bytes_to_str(payload))
        except (ValueError, TypeError):
            logger.error("Dropped broker message %s of queue %r: its payload is not JSON (%d bytes)",
                         message_id, queue, len(payload or ""))
            raise Empty() from None


class Transport(kombu_sqla.Transport):
    """Polls the database every `polling_interval` while the queues are empty, but only every
    SLOT_POLL while the worker's slots are all busy: that wait asks nothing of the database,
    and a slot that frees up is refilled at once instead of up to one interval later."""

    Channel = Channel

    def drain_events(self, connection, timeout=None):
        started = monotonic()
        while True:
            try:
                self.cycle.get(self._deliver, timeout=timeout)
                return
            except Empty:
                if timeout is not None and monotonic() - started >= timeout:
                    raise socket.timeout() from None
                busy = any(getattr(channel, "waiting_for_slot", False) for channel in self.channels)
                sleep(SLOT_POLL if busy else self.polling_interval)


def _forget_engines_in_child() -> None:
    for engine, _session in Channel._engines.values():
        engine.dispose(close=False)  # the parent's connections stay the parent's
    Channel._engines = {}


os.register_at_fork(after_in_child=_forget_engines_in_child)
