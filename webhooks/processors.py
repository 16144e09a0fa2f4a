"""What processing an event type means, in two phases, and what it produced.

`prepare` runs outside any transaction: it may call Avito (a SQLite write lock or an open
PostgreSQL transaction must never wait on the network). `store` runs inside the
transaction that also marks the event processed, so the rows it writes and the event's
outcome are committed together (webhooks.processing); it is given the drain's lease
owner, to whom a delivery it creates is leased.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from webhooks.models import Delivery, IncomingEvent


@dataclass(frozen=True)
class Processed:
    """What storing an event did: the note for its row, and the delivery it created, if any."""
    note: str
    delivery: Delivery | None = None


@dataclass(frozen=True)
class EventProcessor:
    prepare: Callable[[IncomingEvent], Any]
    store: Callable[[IncomingEvent, Any, str], Processed]
