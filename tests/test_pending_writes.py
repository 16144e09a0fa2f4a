"""Writes kept while the database is unreachable: on disk at once, done by a thread once it is back, in order,
each once; a write that fails for another reason is set aside instead of blocking the rest."""
from __future__ import annotations

import threading
import time

import psycopg
import pytest
from django.db import OperationalError

from core import pending_writes
from core.pending_writes import (
    Replayer, pending_write, pending_writes_chore, pending_writes_replay, pending_writes_waiting, register_replay,
)


class FlakyStore:
    """A write that fails like an unreachable PostgreSQL while `down`, and records what it wrote."""

    def __init__(self):
        self.down, self.written, self.tries = False, [], 0
        self.lock = threading.Lock()

    def __call__(self, payload: dict) -> None:
        with self.lock:
            self.tries += 1
            if self.down:
                cause = psycopg.OperationalError("connection failed: Connection refused")
                raise OperationalError(str(cause)) from cause
            if payload.get("bug"):
                raise KeyError("a write that can never succeed")
            self.written.append(payload["n"])


@pytest.fixture
def store(settings, tmp_path, monkeypatch):
    settings.PENDING_WRITES_DIR = tmp_path / "pending-writes"
    flaky = FlakyStore()
    register_replay("tests.flaky", flaky)
    monkeypatch.setattr(pending_writes, "REPLAYER", Replayer(every=0.05))
    yield flaky
    pending_writes._replays.pop("tests.flaky", None)


def wait_for(condition, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_a_write_that_succeeds_keeps_nothing(store, settings):
    assert pending_write("tests.flaky", {"n": 1}) is True
    assert store.written == [1] and store.tries == 1
    assert not settings.PENDING_WRITES_DIR.exists()


def test_writes_kept_while_down_are_done_in_order_by_the_thread_once_the_database_is_back(store):
    store.down = True
    assert pending_write("tests.flaky", {"n": 1}) is False
    assert pending_write("tests.flaky", {"n": 2}) is False
    assert store.tries == 4  # each tried again once on a new connection before being kept
    assert len(pending_writes_waiting()) == 2
    time.sleep(0.2)
    assert store.written == [] and len(pending_writes_waiting()) == 2  # the thread keeps trying, keeps them
    store.down = False
    wait_for(lambda: not pending_writes_waiting())
    assert store.written == [1, 2]
    wait_for(lambda: pending_writes.REPLAYER._thread is None)  # it ends once nothing waits


def test_a_write_that_fails_for_another_reason_is_set_aside_and_the_rest_go_on(store, settings):
    store.down = True
    pending_write("tests.flaky", {"n": 1, "bug": True})
    pending_write("tests.flaky", {"n": 2})
    store.down = False
    wait_for(lambda: not pending_writes_waiting())
    assert store.written == [2]
    assert len(list((settings.PENDING_WRITES_DIR / "failed").iterdir())) == 1


def test_the_sweep_chore_replays_what_a_dead_process_kept(store, monkeypatch):
    monkeypatch.setattr(pending_writes.REPLAYER, "start", lambda: None)  # the process that kept them is gone
    store.down = True
    pending_write("tests.flaky", {"n": 7})
    assert pending_writes_chore(None) == 0  # still down: kept
    store.down = False
    assert pending_writes_chore(None) == 1 and store.written == [7]


def test_one_replayer_at_a_time(store, monkeypatch):
    monkeypatch.setattr(pending_writes.REPLAYER, "start", lambda: None)
    store.down = True
    pending_write("tests.flaky", {"n": 1})
    store.down = False
    import fcntl

    with open(pending_writes.pending_writes_dir() / ".lock", "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        assert pending_writes_replay() == 0  # someone else is at it
    assert pending_writes_replay() == 1 and store.written == [1]
