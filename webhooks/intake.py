"""The webhook's side of an incoming notification: parse it, store it raw, ring the worker.

`event_receive` runs inside Avito's 2-second budget and on the gateway's hottest path, so
it does the least that keeps a message safe: parse, classify, one INSERT unless the
message id is stored already (avitogw.rows: a repeat is dropped by the database,
concurrent copies included), then a wake-up after commit (webhooks.doorbell: one per
burst). Processing happens later, in the worker (webhooks.services). A message whose ids or
values could not be used safely (webhooks.notification_checks) is stored `unprocessable`
and never woken.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any, Callable

from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import F
from django.utils import timezone

from avitogw.errors import DependencyUnavailable
from avitogw.rows import JsonText, insert_new
from webhooks.message_events import MESSAGE_PROCESSOR
from webhooks.models import EventSource, EventStatus, IncomingEvent
from webhooks.notification_checks import NotificationInvalid, json_loads_storable, message_problem
from webhooks.processors import EventProcessor
from webhooks.wakeups import event_stored_wakeup

logger = logging.getLogger(__name__)

# Processors by Avito's payload.type; Avito documents only "message". Any other type is
# acknowledged and stored as ignored, so staff can see what Avito started sending.
EVENT_PROCESSORS: dict[str, EventProcessor] = {"message": MESSAGE_PROCESSOR}
ID_MAX = 128
STORE_BUDGET = 1.5  # seconds the INSERT may be retried: Avito gives up on the webhook after 2 s
RETRY_PAUSE = 0.1  # seconds between tries on a new connection while the database restarts


@dataclass(frozen=True)
class Receipt:
    outcome: str  # "probe", "stored", "ignored" or "duplicate"
    event_pk: int | None = None


def _without_nul(value: Any) -> Any:
    """JSON minus NUL characters, which PostgreSQL's jsonb refuses."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [_without_nul(item) for item in value]
    if isinstance(value, dict):
        return {_without_nul(key): _without_nul(item) for key, item in value.items()}
    return value


def _short_id(value: Any) -> str | None:
    text = str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    return text if 0 < len(text) <= ID_MAX else None


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
    event_pk = _event_insert({**fields, "source": source}, raw=_raw_json(body, data), now=clock())
    if event_pk is None:
        # The same message id again (Avito repeating itself, or two copies racing): count and drop.
        IncomingEvent.objects.filter(message_id=fields["message_id"]).update(repeats=F("repeats") + 1)
        return Receipt("duplicate")
    if fields["status"] != EventStatus.PENDING:
        return Receipt("ignored", event_pk)
    transaction.on_commit(lambda: event_stored_wakeup(event_pk))
    return Receipt("stored", event_pk)


# What the INSERT writes besides the notification's own fields: the model's defaults, as SQL.
DEFAULTS = {"attempts": "0", "repeats": "0", "last_error": "''", "claimed_until": "NULL", "processed_at": "NULL"}


def _raw_json(body: bytes, data: dict) -> Any:
    """The notification as stored: Avito's own JSON text as it came (no second serialization on the
    hot path), unless it holds a NUL, which PostgreSQL's jsonb refuses (it can only come escaped)."""
    if b"\\u0000" in body:
        return _without_nul(data)
    try:
        return JsonText(body.decode("utf-8-sig"))  # -sig: without a byte-order mark, which json accepts
    except UnicodeDecodeError:  # JSON in UTF-16 or -32: valid, rare; stored as parsed
        return data


def _event_insert(fields: dict[str, Any], *, raw: Any, now, monotonic: Callable[[], float] = time.monotonic,
                  sleep: Callable[[float], None] = time.sleep) -> int | None:
    """INSERT the row unless its message id is stored already; its id, or None for a repeat.

    A connection that fails (the database restarting, a persistent connection it dropped: the
    gateway spends no `SELECT 1` per request on health checks, so it learns it here) is closed
    and the INSERT tried again on a new one, every RETRY_PAUSE, until STORE_BUDGET has passed:
    Avito waits 2 s for the answer and never sends the notification again. The INSERT is
    idempotent. Past the budget the notification is logged with its ids and refused with 503.
    """
    values = {**fields, "raw": raw, "next_attempt_at": now, "received_at": now}
    deadline = monotonic() + STORE_BUDGET
    while True:
        try:
            return insert_new(IncomingEvent, values, key="message_id", constants=DEFAULTS)
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
