"""What processing an event type means, in two phases, for a batch of events, and what it produced.

`prepare` runs outside any transaction: it may call Avito (a SQLite write lock or an open
PostgreSQL transaction must never wait on the network); it returns one result per event,
an exception for an event it could not prepare. `store` runs inside the transaction that
also marks the events processed, so the rows it writes and the events' outcome are
committed together (webhooks.processing); it is given the drain's lease owner, to whom
the deliveries it creates are leased. Both take a batch, so that a batch costs a few
statements rather than a few per event.
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
    prepare: Callable[[list[IncomingEvent]], list[Any]]
    store: Callable[[list[IncomingEvent], list[Any], str], list[Processed]]
