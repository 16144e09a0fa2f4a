"""The dispatch table of Avito's notification types: what processes each, and which are ignored.

Avito documents only `message`. Any other `payload.type` is acknowledged and stored as
ignored (webhooks.intake), so staff can see what Avito started sending. The webhook reads
the table's keys; the worker (webhooks.processing) runs the processors.
"""
from __future__ import annotations

from webhooks.message_events import MESSAGE_PROCESSOR
from webhooks.processors import EventProcessor

EVENT_PROCESSORS: dict[str, EventProcessor] = {"message": MESSAGE_PROCESSOR}
