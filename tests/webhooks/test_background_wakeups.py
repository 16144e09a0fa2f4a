"""The web process's wake-ups, sent from a thread after the response: none lost, few sent."""
from __future__ import annotations

import threading
import time

from webhooks.background_wakeups import BackgroundWakeups


class Recorder:
    def __init__(self, delay: float = 0.0):
        self.batches: list[list[int]] = []
        self.delay = delay
        self.lock = threading.Lock()

    def __call__(self, event_pks: list[int]) -> None:
        time.sleep(self.delay)  # a Redis round trip, during which more events come
        with self.lock:
            self.batches.append(event_pks)

    def sent(self) -> list[int]:
        with self.lock:
            return sorted(pk for batch in self.batches for pk in batch)


def wait_for(condition, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def test_every_event_handed_over_by_many_threads_is_sent_once_in_few_batches():
    recorder = Recorder(delay=0.01)
    wakeups = BackgroundWakeups(recorder).start()

    def requests(start):
        for pk in range(start, start + 100):
            wakeups.hand_over(pk)
    threads = [threading.Thread(target=requests, args=(start,)) for start in range(0, 800, 100)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    wait_for(lambda: len(recorder.sent()) == 800)
    assert recorder.sent() == list(range(800))  # each once
    assert len(recorder.batches) < 100  # one ring for all that came during the last


def test_flush_sends_what_is_pending_in_the_callers_thread():
    recorder = Recorder()
    wakeups = BackgroundWakeups(recorder)  # its thread never started: only flush can send
    wakeups.hand_over(1)
    wakeups.hand_over(2)
    wakeups.flush()
    assert recorder.batches == [[1, 2]]
    wakeups.flush()
    assert recorder.batches == [[1, 2]]


def test_a_failing_send_does_not_stop_the_thread():
    calls = []

    def send(event_pks):
        calls.append(event_pks)
        if len(calls) == 1:
            raise ConnectionError("broker down")
    wakeups = BackgroundWakeups(send).start()
    wakeups.hand_over(1)
    wait_for(lambda: len(calls) == 1)
    wakeups.hand_over(2)
    wait_for(lambda: len(calls) == 2)
    assert calls == [[1], [2]]


def test_a_burst_within_the_coalescing_time_is_one_wake_up():
    recorder = Recorder()
    wakeups = BackgroundWakeups(recorder, coalesce=0.2).start()
    for pk in range(50):
        wakeups.hand_over(pk)
    wait_for(lambda: len(recorder.sent()) == 50)
    assert recorder.batches == [list(range(50))]
