"""Counters the sandbox keeps so tests can check what a client really did (``GET /_sandbox/stats``)."""

from __future__ import annotations

import threading
from collections import Counter, deque

NOTIFICATION_LOG_SIZE = 200


class Stats:
    COUNTERS = ("requests_total", "token_requests", "tokens_issued", "rate_limited", "sends",
                "faults_injected", "customer_messages", "notifications_sent", "notifications_failed",
                "notifications_dropped")

    def __init__(self):
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._counters = Counter({name: 0 for name in self.COUNTERS})
            self._operations: Counter = Counter()
            self._notifications: deque[dict] = deque(maxlen=NOTIFICATION_LOG_SIZE)

    def incr(self, name: str, amount: int = 1) -> None:
        with self._lock:
            self._counters[name] += amount

    def request(self, operation: str) -> None:
        with self._lock:
            self._counters["requests_total"] += 1
            self._operations[operation] += 1

    def notification(self, entry: dict, *, ok: bool) -> None:
        with self._lock:
            self._counters["notifications_sent" if ok else "notifications_failed"] += 1
            self._notifications.append(entry)

    def snapshot(self) -> dict:
        with self._lock:
            return {**self._counters, "requests": dict(self._operations)}

    def notification_log(self) -> list[dict]:
        with self._lock:
            return list(self._notifications)
