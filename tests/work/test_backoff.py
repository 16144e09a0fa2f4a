"""The one retry schedule (deliveries, events, bulk items, Avito calls): doubling from the base, jittered, capped at the maximum."""
from __future__ import annotations

import pytest

from core.work.backoff import backoff_delay


def backoff_schedule(*, attempts: int, base: float, cap: float, rand=lambda: 0.5) -> list[float]:
    """The waits between `attempts` attempts."""
    return [backoff_delay(attempt=n, base=base, cap=cap, rand=rand) for n in range(1, attempts)]


def test_without_jitter_it_doubles_from_the_base_up_to_the_cap():
    waits = backoff_schedule(attempts=12, base=10, cap=3600, rand=lambda: 0.0)
    assert waits == [10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600, 3600]


def test_the_jitter_stays_below_the_next_step():
    waits = backoff_schedule(attempts=5, base=10, cap=3600, rand=lambda: 0.999)
    assert waits == pytest.approx([19.99, 39.98, 79.96, 159.92])


@pytest.mark.parametrize("attempt", range(1, 40))
def test_every_wait_is_within_base_and_max(attempt):
    for rand in (0.0, 0.3, 0.999):
        assert 10 <= backoff_delay(attempt=attempt, base=10, cap=3600, rand=lambda: rand) <= 3600


def test_a_huge_attempt_number_does_not_overflow():
    assert backoff_delay(attempt=10_000, base=10, cap=3600, rand=lambda: 0.5) == 3600


def test_a_zero_base_retries_at_once():
    assert backoff_schedule(attempts=4, base=0, cap=3600) == [0, 0, 0]
