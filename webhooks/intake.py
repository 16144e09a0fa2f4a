"""The webhook's side of an incoming notification: parse it, store it raw, wake the drain.

`event_receive` runs inside Avito's 2-second budget, so it does the least that keeps a
message safe: parse, classify, one INSERT (a repeat of a message id is dropped by the
database's unique constraint, ON CONFLICT DO NOTHING, concurrent copies included, and
counted), then, after the commit, a wake-up of the worker's drain by task name, one per
burst (core.work.wakeups). Processing happens later, in the worker (webhooks.processing).
A message whose ids or values could not be used safely (webhooks.notification_checks) is
stored `unprocessable` and never woken. A notification with nothing to do (an unknown type,
no usable ids) is stored `ignored` with at most IGNORED_RAW_MAX bytes of its body, marked
truncated (anyone who finds the path could otherwise park a megabyte per request for ever),
and such rows go after IGNORED_KEEP (webhooks.retention). A database that restarts under the
INSERT is retried on a new connection within the budget.
"""
from __future__ import annotations

import functools
import logging
import time
from dataclasses import dataclass
from typing import Any, Callable

from django.db import InterfaceError, OperationalError, connection
from django.db.models import F
from django.utils import timezone

from core.errors import DependencyUnavailable
from core.json_input import without_nul
from core.work.wakeups import wake_coalesced
from messenger.avito.ids import ID_MAX_LENGTH
from webhooks.event_types import EVENT_PROCESSORS
from webhooks.models import EventSource, EventStatus, IncomingEvent
from webhooks.notification_checks import NotificationInvalid, json_loads_storable, message_problem
from webhooks.task_names import EVENTS_DRAIN

logger = logging.getLogger(__name__)

STORE_BUDGET = 1.5  # seconds the INSERT may be retried: Avito gives up on the webhook after 2 s
RETRY_PAUSE = 0.1  # seconds between tries on a new connection while the database restarts
IGNORED_RAW_MAX = 4096  # bytes of an ignored notification's body kept (Avito's own are well under it)


@dataclass(frozen=True)
class Receipt:
    outcome: str  # "probe", "stored", "ignored" or "duplicate"
    event_pk: int | None = None


def _truncated(body: bytes) -> dict[str, Any]:
    """What is kept of a long ignored notification: its first bytes as text, and its size."""
    head = body[:IGNORED_RAW_MAX].decode("utf-8", "replace")  # a character cut in two becomes U+FFFD
    return {"truncated": True, "bytes": len(body), "head": head}


def _short_id(value: Any) -> str | None:
    text = str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    return text if 0 < len(text) <= ID_MAX_LENGTH else None


def _classify(data: dict) -> dict[str, Any]:
    """The row's fields from the notification: pending when there is work, else ignored with why."""
    payload = data.get("payload") if isinstance(data.get("payload"), dict) else {}
    value = payload.get("value") if isinstance(payload.get("value"), dict) else {}
    event_type = str(payload.get("type") or "")[:64]
    fields = {"avito_event_id": (_short_id(data.get("id")) or ""), "event_type": event_type,
              "chat_id": _short_id(value.get("chat_id")) or "", "message_id": None}
    if event_type not in EVENT_PROCESSORS:
        return {**fields, "status": EventStatus.IGNORED, "note": f"event type {event_type!r} is not handled"}
    message_id = _short_id(value.get("id"))
    if not (message_id and fields["chat_id"]):
        return {**fields, "status": EventStatus.IGNORED, "note": "the message has no usable id or chat_id"}
    problem = message_problem(value)
    if problem:  # kept for staff to see, never processed: its ids or values cannot be used safely
        return {**fields, "message_id": message_id, "status": EventStatus.UNPROCESSABLE, "note": problem}
    return {**fields, "message_id": message_id, "status": EventStatus.PENDING, "note": ""}


def event_receive(*, body: bytes, source: str = EventSource.WEBHOOK, clock: Callable = timezone.now) -> Receipt:
    """Store one notification from Avito; processing is queued for after the commit.

    Reconciliation stores a message whose notification never came through here too
    (`source="poll"`), as the notification Avito would have sent: the unique message id
    then makes whichever copy comes second a duplicate, so the message is processed once.
    """
    data = json_loads_storable(body)
    if not isinstance(data, dict):
        raise NotificationInvalid("The body must be a JSON object (Avito's notification).")
    if not data:
        return Receipt("probe")  # Avito's reachability check: nothing to store
    fields = _classify(data)
    raw = without_nul(data) if b"\\u0000" in body else data  # PostgreSQL's jsonb refuses NUL; it can only come escaped
    if fields["status"] == EventStatus.IGNORED and len(body) > IGNORED_RAW_MAX:
        raw = _truncated(body)
    event_pk = _event_insert({**fields, "source": source}, raw=raw, now=clock())
    if event_pk is None:
        # The same message id again (Avito repeating itself, or two copies racing): count and drop.
        IncomingEvent.objects.filter(message_id=fields["message_id"]).update(repeats=F("repeats") + 1)
        return Receipt("duplicate")
    if fields["status"] != EventStatus.PENDING:
        return Receipt("ignored", event_pk)
    wake_coalesced(EVENTS_DRAIN)
    return Receipt("stored", event_pk)


def _event_insert(fields: dict[str, Any], *, raw: Any, now, monotonic: Callable[[], float] = time.monotonic,
                  sleep: Callable[[float], None] = time.sleep) -> int | None:
    """INSERT the row unless its message id is stored already; its id, or None for a repeat.

    A connection that fails (the database restarting, a persistent connection it dropped: the
    gateway spends no `SELECT 1` per request on health checks, so it learns it here) is closed
    and the INSERT tried again on a new one, every RETRY_PAUSE, until STORE_BUDGET has passed:
    Avito waits 2 s for the answer and never sends the notification again. The INSERT is
    idempotent. Past the budget the notification is logged with its ids and refused with 503.
    """
    deadline = monotonic() + STORE_BUDGET
    while True:
        try:
            return _insert(fields, raw=raw, now=now)
        except (OperationalError, InterfaceError) as exc:
            if connection.in_atomic_block:
                raise
            connection.close()
            if monotonic() + RETRY_PAUSE > deadline:
                logger.error("Could not store Avito's notification %s (message %s, chat %s): the database failed "
                             "(%s) for %.1f s", fields["avito_event_id"] or "-", fields["message_id"] or "-",
                             fields["chat_id"] or "-", exc.__class__.__name__, STORE_BUDGET)
                raise DependencyUnavailable(
                    "The database could not store the notification; it was not accepted.",
                    details={"message_id": fields["message_id"]}) from exc
            logger.warning("The database connection failed (%s); storing the notification on a new one",
                           exc.__class__.__name__)
            sleep(RETRY_PAUSE)


# A new row's columns besides the notification's own (every column is named: none has a database default).
NEW_ROW = {"attempts": 0, "repeats": 0, "last_error": "", "lease_owner": "", "lease_expires": None,
           "processed_at": None}


def _insert(fields: dict[str, Any], *, raw: Any, now) -> int | None:
    """`INSERT ... ON CONFLICT (message_id) DO NOTHING RETURNING id`: the new row's id, or None for a
    repeat, with no exception (so no savepoint inside a caller's transaction). The one statement the
    gateway writes itself: the ORM's `create` compiled it anew for every notification, which took the
    webhook below 0.4 of the bare view's throughput (docs/benchmarks.md, issue 12)."""
    values = {**fields, "raw": raw, "next_attempt_at": now, "received_at": now, **NEW_ROW}
    meta = IncomingEvent._meta
    params = [meta.get_field(name).get_db_prep_save(value, connection) for name, value in values.items()]
    with connection.cursor() as cursor:
        cursor.execute(_insert_sql(connection.vendor, tuple(values)), params)
        row = cursor.fetchone()
    return row[0] if row else None


@functools.lru_cache(maxsize=8)
def _insert_sql(vendor: str, names: tuple[str, ...]) -> str:
    meta, quote = IncomingEvent._meta, connection.ops.quote_name
    columns = ", ".join(quote(meta.get_field(name).column) for name in names)
    return (f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({', '.join(['%s'] * len(names))}) "
            f"ON CONFLICT ({quote(meta.get_field('message_id').column)}) DO NOTHING RETURNING {quote(meta.pk.column)}")
