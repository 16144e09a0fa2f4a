"""The gateway's Prometheus counters and histograms, counted in every process and added up at scrape time.

Web (gunicorn workers), the Celery worker (each pool process) and beat each write their
counts into a file of their own under `DATA_DIR/metrics` (prometheus_client's multiprocess
mode); `GET /metrics` (avitogw.metrics_view) reads every file and adds them up. Gauges of
queues and the token are not counted here: they are read from the database at scrape time
(avitogw.metrics_collector), so they are right however many processes there are.

The folder is made when a process starts (avitogw.apps, AppConfig.ready) and
emptied when the whole group starts (`./run.sh`, or `python manage.py metrics_reset` before the
processes of a bare or systemd deployment), never while another process writes to it.

Counting must never break the work it counts: each `*_counted`/`*_observed` swallows (and
logs once) whatever prometheus_client raises, such as a folder removed under a running process.
"""
from __future__ import annotations

import functools
import logging
import re
import shutil
import time
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlsplit

from django.conf import settings
from prometheus_client import Counter, Histogram, multiprocess  # multiprocess mode: settings.METRICS_DIR

logger = logging.getLogger(__name__)

WEBHOOK_EVENTS = Counter(
    "avitogw_webhook_events", "Notifications Avito posted to the webhook, by what became of them",
    ["outcome"])  # stored, duplicate, ignored (probe or unhandled type), rejected (bad body or path)
N8N_DELIVERIES = Counter(
    "avitogw_n8n_deliveries", "Delivery attempts to n8n, by outcome", ["outcome"])  # delivered, retry, failed
N8N_DELIVERY_LAG = Histogram(
    "avitogw_n8n_delivery_lag_seconds", "From the notification's arrival to n8n's 2xx for its message",
    ["attempt"], buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 21600, 86400))  # first, later
AVITO_REQUESTS = Counter(
    "avitogw_avito_requests", "HTTP requests made to Avito's API, by operation and answer",
    ["operation", "status"])  # status: the HTTP code, or timeout / error when there was no answer
AVITO_REQUEST_DURATION = Histogram(
    "avitogw_avito_request_duration_seconds", "One HTTP request to Avito, from sending to the answer",
    ["operation"], buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60))
AVITO_RATE_LIMIT_WAIT = Histogram(
    "avitogw_avito_rate_limit_wait_seconds", "Time a call waited for a slot of the shared Avito rate limit",
    ["outcome"], buckets=(0.001, 0.01, 0.1, 0.5, 1, 2, 5, 10, 30, 60))  # granted, gave_up
RECONCILE_RUNS = Counter(
    "avitogw_reconcile_runs", "Reconciliation runs, by how they ended", ["outcome"])  # ok, started, budget, error
RECONCILE_MESSAGES_FOUND = Counter(
    "avitogw_reconcile_messages_found", "Messages a reconciliation run found that no notification had brought",
    ["trigger"])  # beat, command
# Every metric has labels, so none writes a file before its first count: importing this module
# touches no file, and the folder only has to exist once a process starts counting.

# Avito's operationIds (avito-spec/) by method and path, so a chat id never becomes a label value.
AVITO_OPERATIONS = [
    ("POST", r"/token/?", "getAccessToken"),
    ("GET", r"/messenger/v2/accounts/[^/]+/chats", "getChatsV2"),
    ("GET", r"/messenger/v2/accounts/[^/]+/chats/[^/]+", "getChatByIdV2"),
    ("GET", r"/messenger/v3/accounts/[^/]+/chats/[^/]+/messages/?", "getMessagesV3"),
    ("POST", r"/messenger/v1/accounts/[^/]+/chats/[^/]+/messages", "postSendMessage"),
    ("POST", r"/messenger/v1/accounts/[^/]+/chats/[^/]+/messages/image", "postSendImageMessage"),
    ("POST", r"/messenger/v1/accounts/[^/]+/chats/[^/]+/messages/[^/]+", "deleteMessage"),
    ("POST", r"/messenger/v1/accounts/[^/]+/chats/[^/]+/read", "chatRead"),
    ("GET", r"/messenger/v1/accounts/[^/]+/getVoiceFiles", "getVoiceFiles"),
    ("POST", r"/messenger/v1/accounts/[^/]+/uploadImages", "uploadImages"),
    ("POST", r"/messenger/v3/webhook", "postWebhookV3"),
    ("POST", r"/messenger/v1/webhook/unsubscribe", "postWebhookUnsubscribe"),
    ("POST", r"/messenger/v1/subscriptions", "getSubscriptions"),
    ("POST", r"/messenger/v2/accounts/[^/]+/blacklist", "postBlacklistV2"),
]
_OPERATIONS = [(method, re.compile(pattern + "$"), name) for method, pattern, name in AVITO_OPERATIONS]


def avito_operation(method: str, url: str) -> str:
    """Avito's operationId for a request (`other` for a path the gateway does not know)."""
    path = urlsplit(url).path
    for known_method, pattern, name in _OPERATIONS:  # in order: ".../messages/image" before ".../{message_id}"
        if known_method == method.upper() and pattern.search(path):
            return name
    return "other"


def _never_raises(function: Callable) -> Callable:
    warned = []

    @functools.wraps(function)
    def counted(*args, **kwargs):
        try:
            function(*args, **kwargs)
        except Exception:  # noqa: BLE001 (a metric must never fail the webhook, a send or a delivery)
            if not warned:
                warned.append(True)
                logger.warning("Could not record a metric (%s); counting is off in this process until it works "
                               "again", function.__name__, exc_info=True)
    return counted


@_never_raises
def webhook_event_counted(outcome: str) -> None:
    WEBHOOK_EVENTS.labels(outcome).inc()


@_never_raises
def n8n_delivery_counted(outcome: str, *, attempt: int = 1, lag_seconds: float | None = None) -> None:
    N8N_DELIVERIES.labels(outcome).inc()
    if lag_seconds is not None:
        N8N_DELIVERY_LAG.labels("first" if attempt <= 1 else "later").observe(max(0.0, lag_seconds))


@_never_raises
def reconcile_run_counted(outcome: str, *, trigger: str, messages_found: int) -> None:
    RECONCILE_RUNS.labels(outcome).inc()
    if messages_found:
        RECONCILE_MESSAGES_FOUND.labels(trigger).inc(messages_found)


@_never_raises
def _avito_request_counted(method: str, url: str, status: str, seconds: float) -> None:
    operation = avito_operation(method, url)
    AVITO_REQUESTS.labels(operation, status).inc()
    AVITO_REQUEST_DURATION.labels(operation).observe(seconds)


@_never_raises
def _rate_limit_wait_observed(outcome: str, seconds: float) -> None:
    AVITO_RATE_LIMIT_WAIT.labels(outcome).observe(seconds)


def avito_call_metered(send: Callable[..., Any], method: str, url: str, **kwargs) -> Any:
    """`send(method, url, **kwargs)` (the Session's request), counted with its answer and duration."""
    started, status = time.monotonic(), "error"
    try:
        response = send(method, url, **kwargs)
        status = str(response.status_code)
        return response
    except Exception as exc:
        status = "timeout" if "Timeout" in type(exc).__name__ else "error"
        raise
    finally:
        _avito_request_counted(method, url, status, time.monotonic() - started)


def avito_wait_metered(acquire: Callable[[float], Any], timeout: float) -> Any:
    """`acquire(timeout)` (a rate-limit slot), with the time it waited."""
    started, outcome = time.monotonic(), "gave_up"
    try:
        granted = acquire(timeout)
        outcome = "granted"
        return granted
    finally:
        _rate_limit_wait_observed(outcome, time.monotonic() - started)


def metrics_dir_prepare(*, fresh: bool = False) -> Path:
    """Make the folder the processes count into; `fresh` empties it first (only before any of them runs)."""
    folder = Path(settings.METRICS_DIR)
    if fresh and folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def metrics_process_dead(pid: int) -> None:
    """A process ended: drop its live-gauge files (its counts stay, as counters must)."""
    multiprocess.mark_process_dead(pid, str(settings.METRICS_DIR))
