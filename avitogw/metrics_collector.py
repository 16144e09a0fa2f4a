"""Gauges read from the database at scrape time: the delivery backlog, bulk items and jobs, reconciliation, the token.

These are states, not events, so they are computed from the rows that hold them (the rows
are the source of truth) rather than counted by processes: every scrape is right, whichever
process answers it and however many processes ran before.
"""
from __future__ import annotations

import logging
import time

from django.conf import settings
from django.db.models import Count
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from bulk.models import BulkItem, BulkItemStatus, BulkJob, BulkJobStatus
from messenger.services.token import token_seconds_left
from reconcile.selectors import last_success_at, reconcile_lag
from webhooks.models import Delivery, DeliveryStatus, EventStatus, IncomingEvent

logger = logging.getLogger(__name__)

BACKLOG = [DeliveryStatus.PENDING, DeliveryStatus.DELIVERING, DeliveryStatus.FAILED]
EVENTS_WAITING = [EventStatus.PENDING, EventStatus.PROCESSING, EventStatus.ERROR]


def _by_status(queryset, statuses) -> dict[str, int]:
    counts = dict(queryset.filter(status__in=statuses).values_list("status").annotate(n=Count("pk")))
    return {str(status): counts.get(status, 0) for status in statuses}


def _family(name: str, documentation: str, values: dict[str, int]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=["status"])
    for status, count in values.items():
        family.add_metric([status], count)
    return family


def _reconcile():
    yield GaugeMetricFamily("avitogw_reconcile_interval_seconds",
                            "RECONCILE_INTERVAL: seconds between scheduled reconciliation runs (0: off)",
                            value=settings.RECONCILE_INTERVAL)
    succeeded = last_success_at()
    if succeeded is not None:  # absent until the first run (the first start's counts as one)
        yield GaugeMetricFamily("avitogw_reconcile_last_success_age_seconds",
                                "Seconds since the last reconciliation run that read everything it had to",
                                value=(timezone.now() - succeeded).total_seconds())
    lag = reconcile_lag(now=timezone.now())
    if lag is not None:  # absent until the first run
        yield GaugeMetricFamily("avitogw_reconcile_lag_seconds",
                                "Seconds since the watermark: the start of the oldest window reconciliation "
                                "still has to read (about an interval when it keeps up)", value=lag)


class DatabaseCollector(Collector):
    def collect(self):
        try:
            yield from self._rows()
        except Exception:  # noqa: BLE001 (a database outage must not take the counters down with it)
            logger.warning("Metrics: the database could not be read; gauges left out of this scrape", exc_info=True)
            yield GaugeMetricFamily("avitogw_metrics_database_up", "1 when the gauges could be read", value=0)
            return
        yield GaugeMetricFamily("avitogw_metrics_database_up", "1 when the gauges could be read", value=1)
        yield from self._token()

    @staticmethod
    def _rows():
        yield _family("avitogw_n8n_delivery_backlog", "Deliveries to n8n not delivered yet, by status",
                      _by_status(Delivery.objects, BACKLOG))
        yield _family("avitogw_incoming_events_backlog", "Incoming events not processed yet, by status",
                      _by_status(IncomingEvent.objects, EVENTS_WAITING))
        yield _family("avitogw_bulk_items", "Bulk send items, by status", _by_status(BulkItem.objects, BulkItemStatus.values))
        yield _family("avitogw_bulk_jobs", "Bulk send jobs, by status", _by_status(BulkJob.objects, BulkJobStatus.values))
        yield from _reconcile()

    @staticmethod
    def _token():
        try:
            left = token_seconds_left(now=time.time())
        except Exception:  # noqa: BLE001 (Redis down: the token's gauge is left out, the rest stays)
            logger.warning("Metrics: the Avito token could not be read", exc_info=True)
            return
        if left is not None:
            yield GaugeMetricFamily("avitogw_avito_token_expires_in_seconds",
                                    "Seconds until the shared Avito access token expires (negative: expired)",
                                    value=left)
