"""When to try again: the one backoff policy of the gateway (deliveries, events, bulk items, Avito calls).

The wait after the n-th failed attempt is drawn from [base * 2^(n-1), base * 2^n], capped
at `cap`: it doubles from one attempt to the next, never drops below the base, never
exceeds the cap, and the jitter spreads the retries of many rows that failed together
(n8n or Avito coming back after an outage is not hit by all of them in the same second).
`rand` is injectable so tests see the exact schedule.
"""
from __future__ import annotations

import random
from typing import Callable


def backoff_delay(*, attempt: int, base: float, cap: float, rand: Callable[[], float] = random.random) -> float:
    """Seconds to wait after the `attempt`-th failed attempt (1-based)."""
    if attempt < 1:
        return 0.0
    step = base * 2 ** min(attempt - 1, 62)  # the exponent is bounded: 2**62 * base is already "cap"
    return min(cap, step * (1.0 + rand()))
