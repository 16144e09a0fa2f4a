"""Counters the sandbox keeps so tests can check what a client really did (``GET /_sandbox/stats``).

Every counter is kept in total and, when the event belongs to one account, for that
account too (``accounts`` in the stats), so a test can see one account's calls, 429s and
sends apart from the others'.
"""

from __future__ import annotations

import threading
from collections import Counter, deque

NOTIFICATION_LOG_SIZE = 200


class Stats:
    COUNTERS = ("requests_total", "token_requests", "tokens_issued", "rate_limited", "sends",
                "faults_injected", "customer_messages", "app_messages", "notifications_sent",
                "notifications_failed", "notifications_dropped")
    ACCOUNT_COUNTERS = ("requests_total", "tokens_issued", "rate_limited", "sends", "customer_messages",
                        "app_messages", "notifications_sent", "notifications_failed", "notifications_dropped")

    def __init__(self):
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._counters = Counter({name: 0 for name in self.COUNTERS})
            self._operations: Counter = Counter()
            self._accounts: dict[int, Counter] = {}
            self._account_operations: dict[int, Counter] = {}
            self._notifications: deque[dict] = deque(maxlen=NOTIFICATION_LOG_SIZE)

    def _account(self, user_id: int | None) -> tuple[Counter, Counter] | None:
        if user_id is None:
            return None
        if user_id not in self._accounts:
            self._accounts[user_id] = Counter({name: 0 for name in self.ACCOUNT_COUNTERS})
            self._account_operations[user_id] = Counter()
        return self._accounts[user_id], self._account_operations[user_id]

    def incr(self, name: str, amount: int = 1, *, account: int | None = None) -> None:
        with self._lock:
            self._counters[name] += amount
            counters = self._account(account)
            if counters is not None:
                counters[0][name] += amount

    def request(self, operation: str, *, account: int | None = None) -> None:
        with self._lock:
            self._counters["requests_total"] += 1
            self._operations[operation] += 1
            counters = self._account(account)
            if counters is not None:
                counters[0]["requests_total"] += 1
                counters[1][operation] += 1

    def notification(self, entry: dict, *, ok: bool) -> None:
        name = "notifications_sent" if ok else "notifications_failed"
        with self._lock:
            self._counters[name] += 1
            counters = self._account(entry.get("account_id"))
            if counters is not None:
                counters[0][name] += 1
            self._notifications.append(entry)

    def snapshot(self) -> dict:
        with self._lock:
            return {**self._counters, "requests": dict(self._operations)}

    def account_snapshot(self, user_id: int) -> dict:
        with self._lock:
            counters, operations = self._account(user_id)
            return {**counters, "requests": dict(operations)}

    def notification_log(self) -> list[dict]:
        with self._lock:
            return list(self._notifications)
