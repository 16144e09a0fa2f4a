"""Fault injection: make the next N calls of an operation fail, or every call slow.

``after_commit`` decides what a failure means: false fails before the handler runs
(nothing is stored, as if Avito refused the call); true runs the handler first (the
message is stored and subscribers notified) and only then answers with the error -- the
case where a client cannot know its send went through and must not send it again.
``hang_ms`` holds the answer that long first, so a client with a shorter timeout sees a timeout.
``store_after_ms`` is the slow Avito of issue 11: the call is held that long *before* the
handler runs, so the message lands after a client with a shorter timeout has given up (and
may already have looked for it); the answer, with ``status``, reaches nobody.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass

TIMEOUT_HANG_MS = 30_000  # "status": "timeout" hangs this long unless hang_ms says otherwise


@dataclass
class FailRule:
    operation: str  # an operationId such as "postSendMessage", or "*" for any API call
    status: int = 500
    count: int = 1
    after_commit: bool = False
    hang_ms: int = 0
    message: str | None = None
    store_after_ms: int = 0
    account_id: int | None = None  # only calls made with this account's token; None: any account

    @property
    def stores_late(self) -> bool:
        return self.store_after_ms > 0

    def matches(self, operation: str, account: int | None = None) -> bool:
        return self.operation in ("*", operation) and self.account_id in (None, account)


def parse_rule(spec: dict) -> FailRule:
    """Validate one ``fail_next`` object from ``POST /_sandbox/config``; raises ValueError."""
    if not isinstance(spec, dict) or not isinstance(spec.get("operation"), str):
        raise ValueError("fail_next needs an object with an \"operation\" (an operationId or \"*\")")
    status, hang_ms = spec.get("status", 500), spec.get("hang_ms", 0)
    if status == "timeout":
        status, hang_ms = 504, spec.get("hang_ms", TIMEOUT_HANG_MS)
    if not isinstance(status, int) or not 400 <= status <= 599:
        raise ValueError("fail_next.status must be an HTTP error status (400-599) or \"timeout\"")
    count = spec.get("count", 1)
    if not isinstance(count, int) or count < 1:
        raise ValueError("fail_next.count must be a positive integer")
    if not isinstance(hang_ms, int) or hang_ms < 0:
        raise ValueError("fail_next.hang_ms must be a non-negative integer")
    store_after_ms = spec.get("store_after_ms", 0)
    if not isinstance(store_after_ms, int) or store_after_ms < 0:
        raise ValueError("fail_next.store_after_ms must be a non-negative integer")
    account_id = spec.get("account_id")
    if account_id is not None and (not isinstance(account_id, int) or isinstance(account_id, bool)):
        raise ValueError("fail_next.account_id must be an account's integer id")
    return FailRule(operation=spec["operation"], status=status, count=count,
                    after_commit=bool(spec.get("after_commit", False)) or store_after_ms > 0, hang_ms=hang_ms,
                    message=spec.get("message"), store_after_ms=store_after_ms, account_id=account_id)


class FaultPlan:
    def __init__(self):
        self._lock = threading.Lock()
        self.clear()

    def clear(self) -> None:
        with self._lock:
            self._rules: list[FailRule] = []
            self.delay_ms = 0

    def add(self, rule: FailRule) -> None:
        with self._lock:
            self._rules.append(rule)

    def take(self, operation: str, *, after_commit: bool, late: bool = False,
             account: int | None = None) -> FailRule | None:
        """The first pending rule for this call and phase (`late`: one that stores late), counting it as used."""
        with self._lock:
            for rule in self._rules:
                if (rule.after_commit == after_commit and rule.stores_late == late
                        and rule.matches(operation, account)):
                    rule.count -= 1
                    if rule.count == 0:
                        self._rules.remove(rule)
                    return rule
        return None

    def describe(self) -> list[dict]:
        with self._lock:
            return [asdict(rule) for rule in self._rules]
