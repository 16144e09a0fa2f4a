"""A sliding-window rate limiter: at most N accepted calls in any W seconds.

A sliding log (not fixed buckets) so that a client that respects the limit is never
refused at a bucket edge, and one that bursts is refused exactly when it should be.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Callable


@dataclass
class Decision:
    allowed: bool
    limit: int
    remaining: int
    retry_after: int  # whole seconds until a slot frees up; 0 when allowed


class SlidingWindowLimiter:
    def __init__(self, limit: int, window: float, *, clock: Callable[[], float] = time.monotonic):
        self.limit = limit
        self.window = window
        self.clock = clock
        self._lock = threading.Lock()
        self._accepted: deque[float] = deque()

    def acquire(self) -> Decision:
        with self._lock:
            now = self.clock()
            while self._accepted and self._accepted[0] <= now - self.window:
                self._accepted.popleft()
            if len(self._accepted) >= self.limit:
                wait = self._accepted[0] + self.window - now
                return Decision(False, self.limit, 0, max(1, math.ceil(wait)))
            self._accepted.append(now)
            return Decision(True, self.limit, self.limit - len(self._accepted), 0)
