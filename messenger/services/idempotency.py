"""Idempotency-Key on sends: the first answer is kept for 24 hours and replayed, never sent twice (contract §3).

A key belongs to a scope (the endpoint path and the API key) and to one request body (its
SHA-256). The first request inserts the row with no status: it is "in flight", and a
concurrent twin gets 409 instead of a second send. A successful answer is then stored and
replayed with `Idempotent-Replayed: true`. A send that certainly failed deletes the row, so
the client may retry with the same key. Rows older than 24 hours are ignored and pruned.

A send whose outcome is unknown (`OutcomeUnknown`, 504) is not stored as the answer: the
row keeps what to look for in the chat (`unsettled`). A retry with the same key settles it
first, by looking in the chat: the message is there -> its answer is stored and replayed;
the chat cannot be read -> 504 again, still unsettled; the message is not there (the settle
window ended before the 504 was given, so the first attempt can no longer land) -> the key
is free again and this retry sends. The gateway itself never resends (docs/avito-client.md).
"""
from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any, Callable, Mapping

from django.db import IntegrityError, transaction
from django.utils import timezone

from core.errors import Conflict, InvalidInput, OutcomeUnknown
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


def _begin(*, key: str, scope: str, body_hash: str, now) -> tuple[IdempotencyRecord | None, dict | None]:
    """Own a new in-flight row (row, None), or find the stored answer (None, answer)."""
    IdempotencyRecord.objects.filter(created_at__lt=now - TTL).delete()
    for _ in range(3):  # the row may vanish between our insert and our read (a failed twin)
        try:
            with transaction.atomic():
                return IdempotencyRecord.objects.create(key=key, scope=scope, body_hash=body_hash), None
        except IntegrityError:
            existing = idempotency_record_get(scope=scope, key=key)
        if existing is None:
            continue
        if existing.body_hash != body_hash:
            raise _conflict(f"This {HEADER} was already used with a different request body.")
        if existing.status_code is not None and existing.unsettled is None:
            return None, existing.response_body
        row = IdempotencyRecord.objects.filter(pk=existing.pk)
        if existing.status_code is not None:  # an unknown outcome: this request settles it, a twin waits
            taken = row.filter(status_code__isnull=False, unsettled__isnull=False).update(status_code=None,
                                                                                          created_at=now)
        else:  # in flight: taken over only from a process that died mid-send
            taken = row.filter(status_code__isnull=True, created_at__lt=now - IN_FLIGHT_STALE).update(created_at=now)
        if taken == 1:
            return existing, None
        raise _conflict(f"A request with this {HEADER} is still in progress; retry when it has finished.")
    raise _conflict(f"A request with this {HEADER} is being retried concurrently; try again.")


def idempotent_call(*, key: str, scope: str, body_hash: str, perform: Callable[[], dict], status_code: int = 200,
                    clock: Callable[[], Any] = timezone.now) -> tuple[dict, bool]:
    """Run `perform` once per (scope, key) within 24 h: (answer, replayed?)."""
    _check_key(key)
    row, stored = _begin(key=key, scope=scope, body_hash=body_hash, now=clock())
    if row is None:
        return stored, True
    ours = IdempotencyRecord.objects.filter(pk=row.pk, status_code__isnull=True)
    if row.unsettled is not None:
        settled = _settle(ours, check=row.unsettled, status_code=status_code)
        if settled is not None:
            return settled, True
    try:
        answer = perform()
    except OutcomeUnknown as exc:
        ours.update(status_code=exc.status, unsettled=exc.check, response_body=None)
        raise
    except BaseException:
        ours.delete()
        raise
    ours.update(status_code=status_code, response_body=answer, unsettled=None)
    return answer, False


def _settle(ours, *, check: dict, status_code: int) -> dict | None:
    """Look in the chat for the send whose outcome was unknown: its answer (now stored), or None if absent."""
    try:
        answer = message_find_sent(check=check)
    except BaseException as exc:
        ours.update(status_code=OutcomeUnknown.status)  # still unsettled: the next retry looks again
        if isinstance(exc, AvitoError):
            raise OutcomeUnknown(
                f"The first send with this {HEADER} has an unknown outcome, and the chat cannot be read to "
                f"settle it ({exc.message}). Nothing was sent.", check=check,
                details={"outcome": "unknown", "chat_id": check.get("chat_id"),
                         "advice": f"Retry later with the same {HEADER}."}) from exc
        raise
    if answer is None:
        ours.update(unsettled=None)  # it did not land: the key is free, and this request sends
        return None
    ours.update(status_code=status_code, response_body=answer, unsettled=None)
    return answer
