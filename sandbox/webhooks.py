"""Posts Avito's v3 webhook notifications to subscribers from a background thread pool.

Like Avito, the sandbox gives a subscriber 2 seconds to answer and never retries;
posting happens off the request thread so an API call never waits for a subscriber.
The pool is created on first use, so it lives in the process that serves requests
(gunicorn forks its worker after the app object is built).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Callable

import requests

from sandbox.stats import Stats

log = logging.getLogger("sandbox.webhooks")

DELIVERY_TIMEOUT_SECONDS = 2.0  # Avito's documented limit for a subscriber's answer


class WebhookNotifier:
    def __init__(self, stats: Stats, *, timeout: float = DELIVERY_TIMEOUT_SECONDS, max_workers: int = 8,
                 clock: Callable[[], float] = time.time):
        self.stats = stats
        self.timeout = timeout
        self.max_workers = max_workers
        self.clock = clock
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None
        self._pending: set[Future] = set()
        self._local = threading.local()  # one keep-alive session per pool thread

    def notify(self, urls: list[str], body: dict, *, account_id: int | None = None) -> int:
        """Queue ``body`` for every URL; returns how many deliveries were queued.

        ``account_id`` is the account whose subscription it is, for the log and its counters.
        """
        payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
        for url in urls:
            self._submit(url, payload, **_details(body, account_id))
        return len(urls)

    def deliver_now(self, url: str, body, *, account_id: int | None = None) -> dict:
        """POST ``body`` (any JSON) to ``url`` in this thread and return the log entry of it."""
        payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
        return self._post(url, payload, **_details(body, account_id))

    def probe(self, url: str) -> None:
        """Avito-style reachability check of a new subscription: an empty ``{}`` POST."""
        self._submit(url, b"{}", event_id=None, message_id=None, account_id=None, probe=True)

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until queued deliveries are done (for tests and ``/_sandbox/stats?wait=1``)."""
        with self._lock:
            pending = list(self._pending)
        done, not_done = wait(pending, timeout=timeout)
        return not not_done

    def shutdown(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)

    def _submit(self, url: str, payload: bytes, **details) -> None:
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(self.max_workers, thread_name_prefix="sandbox-webhook")
            future = self._executor.submit(self._post, url, payload, **details)
            self._pending.add(future)
        future.add_done_callback(self._forget)

    def _forget(self, future: Future) -> None:
        with self._lock:
            self._pending.discard(future)

    def _post(self, url: str, payload: bytes, *, event_id, message_id, account_id, probe: bool = False) -> dict:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        entry = {"url": url, "event_id": event_id, "message_id": message_id, "probe": probe,
                 "at": int(self.clock()), "status": None, "error": None, "account_id": account_id}
        try:
            answer = session.post(url, data=payload, timeout=self.timeout,
                                  headers={"Content-Type": "application/json; charset=utf-8"})
            entry["status"] = answer.status_code
            ok = 200 <= answer.status_code < 300
            if not ok:
                entry["error"] = f"HTTP {answer.status_code}"
        except requests.RequestException as exc:
            entry["error"], ok = f"{type(exc).__name__}: {exc}", False
        if not ok:
            log.warning("webhook delivery to %s failed: %s", url, entry["error"])
        if not probe:
            self.stats.notification(entry, ok=ok)
        return entry


def _details(body, account_id: int | None) -> dict:
    """What the delivery log records of a body: its event and message ids, when it has them."""
    body = body if isinstance(body, dict) else {}
    payload = body.get("payload") if isinstance(body.get("payload"), dict) else {}
    value = payload.get("value") if isinstance(payload.get("value"), dict) else {}
    return {"event_id": body.get("id"), "message_id": value.get("id"), "account_id": account_id}
