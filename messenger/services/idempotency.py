"""Idempotency-Key on sends: the first answer is kept for 24 hours and replayed, never sent twice (contract §3).

A key belongs to a scope (the endpoint path and the API key) and to one request body (its
SHA-256). The first request inserts the row with no status: it is "in flight", and a
concurrent twin gets 409 instead of a second send. A successful answer is then stored and
replayed with `Idempotent-Replayed: true`. A send that certainly failed deletes the row, so
the client may retry with the same key. Rows older than 24 hours are ignored and pruned.

An in-flight row keeps what its send will leave in the chat (`unsettled`, when the caller says:
`check`). A row still in flight after IN_FLIGHT_STALE belongs to a request that died (a killed
process): a retry takes it over and settles it like an unknown outcome, by looking in the chat.

A send whose outcome is unknown (`OutcomeUnknown`, 504) is not stored as the answer: the
row keeps what to look for in the chat (`unsettled`). A retry with the same key settles it
first, by looking in the chat: the message is there -> its answer is stored and replayed;
the chat cannot be read -> 504 again, still unsettled; the message is not there (the settle
window ended before the 504 was given, so the first attempt can no longer land) -> the key
is free again and this retry sends. The gateway itself never resends (docs/avito-client.md).

The outcome is written into the row even when the database is unreachable at that moment
(issue 20): the write is kept and done when it is back (core.pending_writes), fenced on the
row's `created_at` (the request's own start), so a late write never overwrites a later
request's. Until then the row stays in flight and a retry gets 409 for that moment only; a retry
first does the writes kept on this machine, so it finds the settled answer (replayed) or, for a
send that failed before Avito, a free key.
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from typing import Any, Callable, Mapping

from django.db import IntegrityError, InterfaceError, OperationalError, transaction
from django.utils import timezone

from core.database_outage import connection_failed, on_new_connection_if_dropped
from core.errors import Conflict, InvalidInput, OutcomeUnknown
from core.pending_writes import pending_write, pending_writes_replay_if_any
from messenger.avito.errors import AvitoError
from messenger.models import IdempotencyRecord
from messenger.selectors import idempotency_record_get
from messenger.services.messages import message_find_sent

TTL = timedelta(hours=24)
# A row still in flight after this long belongs to a process that died mid-send: it may
# be taken over, or the key would be blocked for a whole day.
IN_FLIGHT_STALE = timedelta(minutes=10)
MAX_KEY_LENGTH = 255
HEADER = "Idempotency-Key"
OUTCOME = "messenger.idempotency_outcome"  # the kind of kept write (core.pending_writes)


def idempotency_scope(*, path: str, api_key: str) -> str:
    caller = hashlib.sha256(api_key.encode()).hexdigest()[:16] if api_key else "-"
    return f"{path[:200]} {caller}"


def request_body_hash(*, fields: Mapping[str, Any], files: Mapping[str, bytes] | None = None) -> str:
    """SHA-256 of the canonical JSON of the body's fields plus the SHA-256 of each uploaded file."""
    canonical = {"fields": fields, "files": {name: hashlib.sha256(data).hexdigest()
                                              for name, data in sorted((files or {}).items())}}
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _check_key(key: str) -> None:
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable() or not key.isascii():
        raise InvalidInput(f"Invalid input: {HEADER}.",
                           details={HEADER: [f"Must be 1..{MAX_KEY_LENGTH} printable ASCII characters."]})


def _conflict(message: str) -> Conflict:
    return Conflict(message)


def _begin(*, key: str, scope: str, body_hash: str, now,
           check: dict | None) -> tuple[IdempotencyRecord | None, dict | None, bool]:
    """Own a new in-flight row (row, None, True), take one over (row, None, False), or find the stored
    answer (None, answer, False)."""
    # The request's first statement: a persistent connection a restart killed is replaced here.
    on_new_connection_if_dropped(lambda: IdempotencyRecord.objects.filter(created_at__lt=now - TTL).delete())
    for _ in range(3):  # the row may vanish between our insert and our read (a failed twin)
        row = IdempotencyRecord(key=key, scope=scope, body_hash=body_hash, unsettled=check)
        try:
            with transaction.atomic():
                row.save(force_insert=True)
                return row, None, True
        except (OperationalError, InterfaceError) as exc:
            # The INSERT may have committed with its answer lost: a row nobody would ever settle,
            # a 409 for every retry. Remove it once the database is back (fenced on its created_at,
            # set when the INSERT was sent; None if the connection failed before it).
            if connection_failed(exc) and row.created_at is not None:
                _record(row, forget=True)
            raise
        except IntegrityError:
            existing = idempotency_record_get(scope=scope, key=key)
        if existing is None:
            continue
        if existing.body_hash != body_hash:
            raise _conflict(f"This {HEADER} was already used with a different request body.")
        if existing.status_code is not None and existing.unsettled is None:
            return None, existing.response_body, False
        row = IdempotencyRecord.objects.filter(pk=existing.pk)
        if existing.status_code is not None:  # an unknown outcome: this request settles it, a twin waits
            taken = row.filter(status_code__isnull=False, unsettled__isnull=False).update(status_code=None,
                                                                                          created_at=now)
        else:  # in flight: taken over only from a process that died mid-send
            taken = row.filter(status_code__isnull=True, created_at__lt=now - IN_FLIGHT_STALE).update(created_at=now)
        if taken == 1:
            existing.created_at = now  # the fence of this request's writes
            return existing, None, False
        raise _conflict(f"A request with this {HEADER} is still in progress; retry when it has finished.")
    raise _conflict(f"A request with this {HEADER} is being retried concurrently; try again.")


def idempotent_call(*, key: str, scope: str, body_hash: str, perform: Callable[[], dict], status_code: int = 200,
                    check: dict | None = None, clock: Callable[[], Any] = timezone.now) -> tuple[dict, bool]:
    """Run `perform` once per (scope, key) within 24 h: (answer, replayed?).

    `check` (`{"chat_id", "kind", "text"?}`, messages.message_send_check) says what the send leaves in
    the chat: the in-flight row keeps it, so a request that died mid-send is settled by looking in
    the chat when its row is taken over, instead of sending blindly.
    """
    _check_key(key)
    pending_writes_replay_if_any()  # an earlier request's outcome, kept while the database was down
    now = clock()
    own_check = {**check, "since": now.timestamp()} if check else None
    row, stored, fresh = _begin(key=key, scope=scope, body_hash=body_hash, now=now, check=own_check)
    if row is None:
        return stored, True
    if not fresh and row.unsettled is not None:
        settled = _settle(row, check=row.unsettled, status_code=status_code, instead=own_check)
        if settled is not None:
            return settled, True
    try:
        answer = perform()
    except OutcomeUnknown as exc:
        _record(row, status_code=exc.status, unsettled=exc.check, response_body=None)
        raise
    except BaseException:
        _record(row, forget=True)
        raise
    _record(row, status_code=status_code, response_body=answer, unsettled=None)
    return answer, False


def idempotency_outcome_store(payload: dict) -> None:
    """Write into a request's in-flight row (`changes`, or with `forget` remove it, freeing the key),
    only while the row is still that request's: in flight since its `created_at`. Idempotent."""
    ours = IdempotencyRecord.objects.filter(scope=payload["scope"], key=payload["key"], status_code__isnull=True,
                                            created_at=datetime.fromisoformat(payload["created_at"]))
    if payload.get("forget"):
        ours.delete()
    else:
        ours.update(**payload["changes"])


def _record(row: IdempotencyRecord, *, forget: bool = False, **changes) -> None:
    """The request's outcome into its row, now or (database unreachable) once the database is back."""
    pending_write(OUTCOME, {"scope": row.scope, "key": row.key, "created_at": row.created_at.isoformat(),
                            "forget": forget, "changes": changes})


def _settle(row: IdempotencyRecord, *, check: dict, status_code: int, instead: dict | None) -> dict | None:
    """Look in the chat for the send whose outcome was unknown: its answer (now stored), or None if absent
    (the row then keeps `instead`, what this request's own send will leave)."""
    try:
        answer = message_find_sent(check=check)
    except BaseException as exc:
        _record(row, status_code=OutcomeUnknown.status)  # still unsettled: the next retry looks again
        if isinstance(exc, AvitoError):
            raise OutcomeUnknown(
                f"The first send with this {HEADER} has an unknown outcome, and the chat cannot be read to "
                f"settle it ({exc.message}). Nothing was sent.", check=check,
                details={"outcome": "unknown", "chat_id": check.get("chat_id"),
                         "advice": f"Retry later with the same {HEADER}."}) from exc
        raise
    if answer is None:
        _record(row, unsettled=instead)  # it did not land: the key is free, and this request sends
        return None
    _record(row, status_code=status_code, response_body=answer, unsettled=None)
    return answer
