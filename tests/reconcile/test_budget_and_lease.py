"""Reconciliation's share of the Avito call limit, and one run at a time across processes."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from messenger.avito.rate_limiter import DatabaseWindowStore, RateLimiter, RedisWindowStore
from messenger.models import RateLimitCall
from reconcile.lease import lease_take
from reconcile.models import ReconcileRun, ReconcileState, RunOutcome
from reconcile.services import reconcile_scheduled
from tests.conftest import AVITO
from tests.reconcile.conftest import CHATS_URL, NOW, avito_calls, chat, message, messages_url

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("reconcile_settings", "eager")]
WATERMARK = NOW - timedelta(minutes=1)
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def watermark():
    ReconcileState.objects.create(id=1, watermark=WATERMARK)
    return WATERMARK


def fill_window(count: int) -> None:
    """Calls other work made in the current window (the database store, as without Redis)."""
    now = time.time()
    RateLimitCall.objects.bulk_create([RateLimitCall(at=now) for _ in range(count)])


def test_try_acquire_grants_only_below_the_cap_and_never_waits():
    slept = []
    limiter = RateLimiter(DatabaseWindowStore(clock=lambda: 1000.0), limit=8, window=60, sleep=slept.append)
    assert [limiter.try_acquire(2) is not None for _ in range(3)] == [True, True, False]
    assert limiter.acquire(timeout=1) == 1000.0  # everyone else still has the rest of the window
    assert slept == []


@pytest.mark.redis
def test_try_acquire_with_redis(redis_url):
    import redis

    store = RedisWindowStore(redis.Redis.from_url(redis_url), "avitogw:tests:reconcile-budget")
    limiter = RateLimiter(store, limit=100, window=60)
    assert [limiter.try_acquire(25) is not None for _ in range(26)].count(True) == 25


def test_a_run_takes_no_slot_when_a_quarter_of_the_window_is_used(avito, run, watermark, settings):
    settings.RATE_LIMIT_REQUESTS = 8  # reconciliation may use the window while it holds fewer than 2
    fill_window(2)
    done = run()
    assert done.outcome == RunOutcome.BUDGET and done.calls == 0 and "1/4" in done.error
    assert not avito_calls(avito, CHATS_URL)
    assert ReconcileState.objects.get().watermark == WATERMARK
    # The only call made was the token's (once a day, as for any caller): no slot taken from sends.
    assert [call.request.url for call in avito.calls] == [f"{AVITO}/token"]


def test_a_run_stops_early_and_keeps_what_it_did(avito, n8n, run, watermark, settings):
    # Room for 4 calls: the token's (fetched on the first call), the chats page and two chats of three.
    settings.RATE_LIMIT_REQUESTS = 16
    first, second, third = (NOW - timedelta(seconds=s) for s in (30, 20, 10))
    avito.get(CHATS_URL, json={"chats": [chat("u2i-c", updated=third), chat("u2i-b", updated=second),
                                         chat("u2i-a", updated=first)], "meta": {"has_more": False}})
    for chat_id, at in (("u2i-a", first), ("u2i-b", second), ("u2i-c", third)):
        avito.get(messages_url(chat_id), json={"messages": [message(f"m-{chat_id}", created=at)],
                                               "meta": {"has_more": False}})

    done = run()

    assert (done.outcome, done.calls, done.chats_seen, done.messages_found) == (RunOutcome.BUDGET, 3, 2, 2)
    assert not avito_calls(avito, messages_url("u2i-c"))
    assert ReconcileState.objects.get().watermark == third.replace(microsecond=0)
    assert [body["meta"]["external_message_id"] for body in n8n.bodies()] == ["m-u2i-a", "m-u2i-b"]


def test_one_run_at_a_time(avito, run, watermark):
    assert lease_take(owner="another-process", now=NOW)
    assert run() is None
    assert not avito_calls(avito, CHATS_URL) and ReconcileRun.objects.count() == 0


def test_a_dead_runs_lease_expires_and_its_row_is_closed(avito, run, watermark, clock):
    avito.get(CHATS_URL, json={"chats": [], "meta": {"has_more": False}})
    lease_take(owner="died", now=NOW - timedelta(hours=1))
    ReconcileRun.objects.create(started_at=NOW - timedelta(hours=1))  # left "running" by the dead process

    done = run()

    assert done.outcome == RunOutcome.OK
    dead = ReconcileRun.objects.exclude(pk=done.pk).get()
    assert dead.outcome == RunOutcome.ERROR and "lease expired" in dead.error


def test_reconcile_interval_zero_means_off(avito, settings, watermark):
    settings.RECONCILE_INTERVAL = 0
    assert reconcile_scheduled() is None
    assert not avito_calls(avito, CHATS_URL) and ReconcileRun.objects.count() == 0


def beat_schedule(tmp_path, interval: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO", "PYTEST"))}
    env.update(DATA_DIR=str(tmp_path), SECRET_KEY="x" * 50, RECONCILE_INTERVAL=interval)
    code = "from django.conf import settings; print(settings.CELERY_BEAT_SCHEDULE.get('reconcile'))"
    return subprocess.run([sys.executable, "manage.py", "shell", "-c", code], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


def test_the_beat_schedule_follows_reconcile_interval(tmp_path):
    assert beat_schedule(tmp_path, "0").stdout.strip().splitlines()[-1] == "None"
    entry = beat_schedule(tmp_path, "2").stdout
    assert "reconcile.tasks.reconcile_tick" in entry and "'schedule': 2.0" in entry
    assert "'schedule': 60.0" in beat_schedule(tmp_path, "").stdout  # the default
