"""What a notification must be before it is stored or processed: JSON a database can hold, sane values.

Two checks, both on the webhook's hot path and both cheap for what Avito really sends:

- `json_loads_storable` parses the body with the gateway's one policy for JSON a database can
  store (core.json_input) and refuses (NotificationInvalid, a 400) what it refuses.
- `message_problem` names the first value of a message that processing could not use
  safely: a chat or message id that is not in Avito's shape (it would go into an Avito URL), an author or
  account that is not a number, a `created` outside the years 1970-9999. Such an event is
  stored as `unprocessable` (staff see why in the admin) and never processed or retried.
  A malformed media id (`content.voice.voice_id`) is not such a value: it fails only its own
  look-up, so the message is delivered with `meta.media_error` (messenger.normalizer).
"""
from __future__ import annotations

from typing import Any, Mapping

from core.json_input import UnstorableJSON, storable_loads
from messenger.avito.ids import INT64_MAX, avito_id_valid

LATEST_UNIX_SECONDS = 253402300799  # 9999-12-31T23:59:59Z, the last second Python's datetime holds


class NotificationInvalid(Exception):
    """The body is not an Avito notification at all (not JSON, not an object, not storable JSON)."""


def json_loads_storable(body: bytes) -> Any:
    """The parsed body; NotificationInvalid for anything that is not JSON a database can store."""
    try:
        return storable_loads(body)
    except UnstorableJSON as exc:
        raise NotificationInvalid(str(exc)) from None
    except ValueError as exc:
        raise NotificationInvalid("The body is not valid JSON.") from exc


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= INT64_MAX


def _account(value: Any) -> bool:
    return _whole(value) or (isinstance(value, str) and value.isdigit() and int(value) <= INT64_MAX)


def _time(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return 0 <= value <= LATEST_UNIX_SECONDS  # no NaN or inf: storable JSON has none (core.json_input)


def message_problem(value: Mapping[str, Any]) -> str | None:
    """Why this message's `payload.value` cannot be processed, or None when it can."""
    for name in ("id", "chat_id"):
        if not avito_id_valid(value.get(name)):
            return f"{name} is not an Avito id"
    if value.get("author_id") is not None and not _whole(value.get("author_id")):
        return "author_id is not a number"
    if value.get("user_id") is not None and not _account(value.get("user_id")):
        return "user_id is not a number"
    if value.get("item_id") is not None and isinstance(value.get("item_id"), int) and not _whole(value["item_id"]):
        return "item_id is out of range"
    if value.get("created") is not None and not _time(value.get("created")):
        return "created is not a Unix time between 1970 and 9999"
    return None
