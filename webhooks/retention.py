"""How long rows with nothing in them for anyone are kept: ignored notifications go after IGNORED_KEEP.

An ignored notification (an unknown type, no usable ids) is worth a look for a few days, while
someone wonders what Avito sent; after that it only takes room, and anyone who finds the webhook
can add more. Messages, deliveries and unprocessable rows are kept: they are the gateway's record.
Run hourly by Celery beat (webhooks.tasks.ignored_events_prune).
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Callable

from django.utils import timezone

from webhooks.models import EventStatus, IncomingEvent

logger = logging.getLogger(__name__)

IGNORED_KEEP = timedelta(days=7)
BATCH = 1000  # rows per DELETE, so a large backlog never holds the table's lock for long


def ignored_events_prune(*, clock: Callable[[], datetime] = timezone.now) -> int:
    """Delete ignored notifications received more than IGNORED_KEEP ago; how many went."""
    old = IncomingEvent.objects.filter(status=EventStatus.IGNORED, received_at__lt=clock() - IGNORED_KEEP)
    deleted = 0
    while pks := list(old.values_list("pk", flat=True)[:BATCH]):
        deleted += IncomingEvent.objects.filter(pk__in=pks).delete()[0]
    if deleted:
        logger.info("Deleted %s ignored notifications older than %s days", deleted, IGNORED_KEEP.days)
    return deleted
