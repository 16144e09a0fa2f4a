"""The figures on the admin's front page: what staff check first, each linked to the list behind it.

Each figure is one small function returning a `Figure`; `FIGURES` lists them in the order
shown, each with the view permission of what it counts, so a new one is one function in its
app's selectors and one line here. A staff member sees only the figures whose rows they may view (the Avito connection's figures go
with the chats, the rows they are about); with no permission, no board. A figure whose
source is down (Redis, the token store) shows "unavailable" instead of breaking the page.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable

from django.conf import settings
from django.urls import reverse
from django.utils.timesince import timesince, timeuntil

from bulk.models import BulkJobStatus
from bulk.selectors import bulk_jobs_running_count
from messenger.selectors import avito_calls_in_window, chat_unread_stored_count
from messenger.services.token import token_expiry
from reconcile.models import RunOutcome
from reconcile.selectors import run_latest
from webhooks.models import DeliveryStatus
from webhooks.selectors import delivery_count, incoming_event_latest

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Figure:
    label: str
    value: str
    url: str | None = None
    note: str = ""
    alert: bool = False  # shown in the warning colour


def _changelist(model: str, **filters: str) -> str:
    query = "&".join(f"{name}={value}" for name, value in filters.items())
    return reverse(f"admin:{model}_changelist") + (f"?{query}" if query else "")


def unread_chats() -> Figure:
    count = chat_unread_stored_count()
    return Figure("Unread chats", str(count), _changelist("messenger_chat", state="unread"))


def deliveries_pending() -> Figure:
    count = delivery_count(status=DeliveryStatus.PENDING)
    return Figure("Deliveries to n8n pending", str(count),
                  _changelist("webhooks_delivery", status__exact=DeliveryStatus.PENDING))


def deliveries_failed() -> Figure:
    count = delivery_count(status=DeliveryStatus.FAILED)
    return Figure("Deliveries to n8n failed", str(count),
                  _changelist("webhooks_delivery", status__exact=DeliveryStatus.FAILED), alert=count > 0)


def last_notification() -> Figure:
    event = incoming_event_latest()
    if event is None:
        return Figure("Last notification from Avito", "none yet", _changelist("webhooks_incomingevent"))
    return Figure("Last notification from Avito", f"{timesince(event.received_at)} ago",
                  _changelist("webhooks_incomingevent"), note=f"{event.received_at:%Y-%m-%d %H:%M:%S} UTC")


def last_reconcile_run() -> Figure:
    """The newest run's age and outcome, linked to that run; late (alert) past three intervals."""
    label, interval = "Last reconciliation run", settings.RECONCILE_INTERVAL
    run = run_latest()
    if run is None:
        return Figure(label, "disabled" if not interval else "none yet", _changelist("reconcile_reconcilerun"),
                      note="RECONCILE_INTERVAL=0" if not interval else "")
    at = run.finished_at or run.started_at
    outcome = RunOutcome(run.outcome)
    note = f"{outcome.value}: {outcome.label}, {at:%Y-%m-%d %H:%M:%S} UTC"
    url = _changelist("reconcile_reconcilerun", id__exact=str(run.pk))
    if not interval:
        return Figure(label, "disabled", url, note=f"RECONCILE_INTERVAL=0; the last (by hand) was {note}")
    late = (datetime.now(timezone.utc) - at).total_seconds() > 3 * interval
    return Figure(label, f"{timesince(at)} ago, {outcome.value}", url, note=note,
                  alert=late or outcome == RunOutcome.ERROR)


def token_expires() -> Figure:
    expires = token_expiry()
    if expires is None:
        return Figure("Avito token", "not fetched yet", note="fetched on the first Avito call")
    expired = expires <= datetime.now(timezone.utc)
    return Figure("Avito token expires", "expired" if expired else f"in {timeuntil(expires)}",
                  note=f"{expires:%Y-%m-%d %H:%M:%S} UTC", alert=expired)


def avito_calls() -> Figure:
    used, limit, window = avito_calls_in_window()
    return Figure("Avito calls in the current window", f"{used} / {limit}", note=f"per {window:g} s",
                  alert=used >= limit)


def bulk_jobs_running() -> Figure:
    return Figure("Bulk jobs running", str(bulk_jobs_running_count()),
                  _changelist("bulk_bulkjob", status__exact=BulkJobStatus.RUNNING))


FIGURES: tuple[tuple[str, Callable[[], Figure]], ...] = (
    ("messenger.view_chat", unread_chats),
    ("webhooks.view_delivery", deliveries_pending),
    ("webhooks.view_delivery", deliveries_failed),
    ("webhooks.view_incomingevent", last_notification),
    ("reconcile.view_reconcilerun", last_reconcile_run),
    ("messenger.view_chat", token_expires),
    ("messenger.view_chat", avito_calls),
    ("bulk.view_bulkjob", bulk_jobs_running),
)


def status_board(*, user) -> list[Figure]:
    """The figures `user` may see, in order; one that cannot be read says so and the rest still show."""
    board = []
    for permission, figure in FIGURES:
        if not user.has_perm(permission):
            continue
        try:
            board.append(figure())
        except Exception:  # noqa: BLE001 - the front page must render with a store down
            logger.warning("Status board figure %s unavailable", figure.__name__, exc_info=True)
            board.append(Figure(figure.__name__.replace("_", " ").capitalize(), "unavailable", alert=True))
    return board
