"""Avito's notification types: what processing each means, and the table the webhook and the worker read.

Avito documents only `message`. Any other `payload.type` is acknowledged and stored as
ignored (webhooks.intake), so staff can see what Avito started sending. The webhook reads
the table's keys; the worker (webhooks.processing) runs the processors.

Processing an event type is two phases, for a batch of events. `prepare` runs outside any
transaction: it may call Avito (a SQLite write lock or an open PostgreSQL transaction must
never wait on the network); it returns one result per event, an exception for an event it
could not prepare. `store` runs inside the transaction that also marks the events processed,
so the rows it writes and the events' outcome are committed together; it is given the
drain's lease owner, to whom the deliveries it creates are leased, and returns for each
event its note and the delivery it created, if any. Both take a batch, so that a batch
costs a few statements rather than a few per event.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from webhooks.message_events import message_events_prepare, message_events_store
from webhooks.models import Delivery, IncomingEvent

Processed = tuple[str, "Delivery | None"]  # what storing one event did: the note for its row, its delivery


@dataclass(frozen=True)
class EventProcessor:
    prepare: Callable[[list[IncomingEvent]], list[Any]]
    store: Callable[[list[IncomingEvent], list[Any], str], list[Processed]]


EVENT_PROCESSORS: dict[str, EventProcessor] = {
    "message": EventProcessor(prepare=message_events_prepare, store=message_events_store),
}
