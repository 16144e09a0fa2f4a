"""Blacklist: block a user at Avito (optionally about one item, with a reason) and keep a row of it."""
from __future__ import annotations

from messenger.avito import get_client
from messenger.models import BlacklistEntry
from messenger.services.limits import REASON_IDS, invalid


def blacklist_add(*, user_id: int, item_id: int | None = None, reason_id: int | None = None) -> dict:
    """POST Avito's `{"users": [{"user_id", "context": {"item_id", "reason_id"}}]}`, then store the entry."""
    if reason_id is not None and reason_id not in REASON_IDS:
        raise invalid("reason_id", "Must be 1 (spam), 2 (fraud), 3 (insults) or 4 (other).")
    context = {key: value for key, value in (("item_id", item_id), ("reason_id", reason_id)) if value is not None}
    user = {"user_id": user_id, **({"context": context} if context else {})}
    get_client().blacklist([user])
    BlacklistEntry.objects.update_or_create(user_id=user_id, item_id=item_id, defaults={"reason_id": reason_id})
    return {"ok": True}
