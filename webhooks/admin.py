"""Admin pages for incoming events and deliveries to n8n: filters, and actions to try again.

Rows are written by the gateway only (no add, every field read-only); staff filter by
status, read the last error, and replay a delivery or reprocess an event through the
same services the API uses. Each action has a permission of its own
(webhooks.reprocess_event, webhooks.replay_delivery): the view permission shows the rows,
never acts on them, and Django refuses an action POST that the user is not offered.
"""
from __future__ import annotations

import json

from django.contrib import admin, messages
from django.db import transaction
from django.utils.html import format_html

from core.admin import ReadOnlyAdmin
from core.errors import GatewayError
from webhooks.delivery import delivery_replay
from webhooks.models import Delivery, IncomingEvent
from webhooks.processing import event_reprocess

REPROCESS_PERMISSION = "webhooks.reprocess_event"
REPLAY_PERMISSION = "webhooks.replay_delivery"


def _short(text: str, size: int = 80) -> str:
    return text if len(text) <= size else text[:size - 1] + "…"


class RecordAdmin(ReadOnlyAdmin):
    """Events are Avito's, deliveries the gateway's: every field shown, the raw JSON pretty-printed."""

    def get_readonly_fields(self, request, obj=None):
        hidden = set(self.exclude or ())  # shown pretty-printed instead
        return [f.name for f in self.model._meta.fields if f.name not in hidden] + list(self.readonly_fields)


@admin.register(IncomingEvent)
class IncomingEventAdmin(RecordAdmin):
    list_display = ("received_at", "event_type", "message_id", "chat_id", "source", "status", "attempts", "repeats",
                    "short_note")
    list_filter = ("status", "source", "event_type")
    search_fields = ("=message_id", "=chat_id", "=avito_event_id")
    date_hierarchy = "received_at"
    readonly_fields = ("pretty_raw",)
    exclude = ("raw",)
    actions = ["process_again"]

    @admin.display(description="note or error")
    def short_note(self, obj: IncomingEvent) -> str:
        return _short(obj.last_error or obj.note)

    @admin.display(description="raw notification")
    def pretty_raw(self, obj: IncomingEvent) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.raw, ensure_ascii=False, indent=2))

    def has_reprocess_permission(self, request) -> bool:
        return request.user.has_perm(REPROCESS_PERMISSION)

    @admin.action(description="Process the selected events again", permissions=["reprocess"])
    def process_again(self, request, queryset) -> None:
        with transaction.atomic():
            done = sum(event_reprocess(event_pk=pk) for pk in queryset.values_list("pk", flat=True))
        self.message_user(request, f"{done} event(s) queued for processing; events being processed or "
                                   "without a message were skipped.", messages.SUCCESS)


@admin.register(Delivery)
class DeliveryAdmin(RecordAdmin):
    list_display = ("id", "event_id", "status", "attempts", "next_attempt_at", "last_status_code",
                    "short_error", "created_at", "delivered_at")
    list_filter = ("status", "last_status_code")
    search_fields = ("=event_id", "=incoming_event__message_id", "=incoming_event__chat_id")
    list_select_related = ("incoming_event",)
    date_hierarchy = "created_at"
    readonly_fields = ("pretty_body",)
    exclude = ("body",)
    actions = ["replay"]

    @admin.display(description="last error")
    def short_error(self, obj: Delivery) -> str:
        return _short(obj.last_error)

    @admin.display(description="payload posted to n8n")
    def pretty_body(self, obj: Delivery) -> str:
        return format_html("<pre>{}</pre>", json.dumps(json.loads(obj.body), ensure_ascii=False, indent=2))

    def has_replay_permission(self, request) -> bool:
        return request.user.has_perm(REPLAY_PERMISSION)

    @admin.action(description="Replay the selected deliveries to n8n", permissions=["replay"])
    def replay(self, request, queryset) -> None:
        replayed, busy = 0, 0
        for pk in queryset.values_list("pk", flat=True):
            try:
                delivery_replay(delivery_pk=pk)
                replayed += 1
            except GatewayError:
                busy += 1
        self.message_user(request, f"{replayed} delivery(ies) queued again"
                                   + (f"; {busy} skipped while being posted." if busy else "."), messages.SUCCESS)
