"""Reconciliation's share of the Avito call limit, and one run at a time across processes."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from messenger.avito.rate_limiter import DatabaseWindowStore, RateLimiter, RedisWindowStore
from messenger.models import RateLimitCall
from responses import matchers
from reconcile.lease import lease_take
from reconcile.models import DeferredChat, ReconcileRun, ReconcileState, RunOutcome
from reconcile.services import OVERLAP, reconcile_scheduled
from webhooks.models import IncomingEvent
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


def lost_chats(count: int, *, start) -> list[dict]:
    """`count` chats whose last message's notification never came (an outage), oldest last."""
    chats = [chat(f"u2i-{i:03}", updated=start + timedelta(seconds=i % 40), last=message(f"m-{i:03}", created=start + timedelta(seconds=i % 40)))
             for i in range(count)]
    return sorted(chats, key=lambda c: (c["updated"], c["id"]), reverse=True)


def mock_lost(avito, chats: list[dict]) -> None:
    avito.get(CHATS_URL, json={"chats": chats, "meta": {"has_more": False}})
    for each in chats:
        last = each["last_message"]
        avito.get(messages_url(each["id"]), json={"messages": [message(last["id"], created=NOW.fromtimestamp(
            last["created"], NOW.tzinfo))], "meta": {"has_more": False}})


def test_a_run_uses_the_spare_room_up_to_the_reserve_then_its_floor(avito, n8n, run, watermark, settings):
    settings.RATE_LIMIT_REQUESTS = 40  # spare below 30 (a quarter kept for sends); a floor of 5 (half
    # the reserve per call window, a run a minute)
    fill_window(20)  # sends made 20 calls in the window
    mock_lost(avito, lost_chats(30, start=WATERMARK))

    done = run()

    # The token's call (once a day) takes a slot (20 -> 21), then 9 spare calls (21 -> 30), then
    # the 5 floor calls through the ordinary limiter (30 -> 35): 5 slots stay free for sends.
    assert (done.outcome, done.calls) == (RunOutcome.BUDGET, 14) and "floor" in done.error
    assert RateLimitCall.objects.count() == 35 <= settings.RATE_LIMIT_REQUESTS
    assert done.chats_seen == 13  # the chats page, then a chat a call


def test_a_busy_window_still_gives_each_run_its_floor(avito, n8n, run, watermark, settings, clock):
    settings.RATE_LIMIT_REQUESTS, settings.RECONCILE_INTERVAL = 40, 10  # a floor of 1 a run (5 per minute)
    fill_window(35)  # past the reserve: no spare room at all
    mock_lost(avito, lost_chats(5, start=WATERMARK))
    done = run()
    assert (done.outcome, done.calls, done.chats_seen) == (RunOutcome.BUDGET, 1, 0)  # the chats page
    clock.advance(10)
    again = run()  # the window is as busy: the floor again, from where the last run stopped
    assert (again.outcome, again.calls, again.chats_seen) == (RunOutcome.BUDGET, 1, 1)
    assert RateLimitCall.objects.count() == 35 + 1 + 1 + 1  # the token's, and two floors


def test_a_full_window_gives_no_slot_not_even_the_floor(avito, run, watermark, settings, monkeypatch):
    monkeypatch.setattr("reconcile.budget.FLOOR_WAIT", 0.0)
    settings.RATE_LIMIT_REQUESTS = 8
    fill_window(7)  # and the token's call (once a day, as for any caller) takes the eighth slot
    done = run()
    assert done.outcome == RunOutcome.BUDGET and done.calls == 0 and "floor" in done.error
    assert not avito_calls(avito, CHATS_URL)
    assert ReconcileState.objects.get().watermark == WATERMARK
    assert [call.request.url for call in avito.calls] == [f"{AVITO}/token"]
    assert RateLimitCall.objects.count() == 8


def test_runs_on_a_25_call_budget_resume_exactly_where_they_stopped(avito, n8n, run, watermark, settings, clock):
    """Issue 20: 160 chats changed inside the overlap, 40 chats after it whose notifications were
    lost, 25 calls a run. Each run used to re-read the 160 and stop before the 40, forever."""
    settings.RATE_LIMIT_REQUESTS, settings.RECONCILE_INTERVAL = 32, 20  # 24 spare + 1 floor = 25 calls a run
    known = [chat(f"u2i-known-{i:03}", updated=WATERMARK - timedelta(seconds=14) + timedelta(seconds=i % 14),
                  last=message(f"m-known-{i:03}", created=WATERMARK - timedelta(seconds=14) + timedelta(seconds=i % 14)))
             for i in range(160)]
    IncomingEvent.objects.bulk_create([IncomingEvent(message_id=c["last_message"]["id"], chat_id=c["id"], raw={},
                                                     next_attempt_at=NOW, status="done") for c in known])
    lost = lost_chats(40, start=WATERMARK + timedelta(seconds=5))
    chats = sorted(known + lost, key=lambda c: (c["updated"], c["id"]), reverse=True)
    pages = [chats[:100], chats[100:]]
    for offset, page in ((0, pages[0]), (100, pages[1])):
        avito.get(CHATS_URL, json={"chats": page, "meta": {"has_more": offset == 0}},
                  match=[matchers.query_param_matcher({"chat_types": "u2i,u2u,a2u", "limit": "100",
                                                       "offset": str(offset)})])
    for each in lost:
        last = each["last_message"]
        avito.get(messages_url(each["id"]), json={"messages": [
            message(last["id"], created=NOW.fromtimestamp(last["created"], NOW.tzinfo)),
            message(last["id"] + "-before", created=NOW.fromtimestamp(last["created"] - 1, NOW.tzinfo))],
            "meta": {"has_more": False}})
    for each in known:  # spared by the window, read later on spare room (reconcile.deferred): nothing hidden
        last = each["last_message"]
        avito.get(messages_url(each["id"]), json={"messages": [
            message(last["id"], created=NOW.fromtimestamp(last["created"], NOW.tzinfo))], "meta": {"has_more": False}})

    outcomes = []
    for _ in range(4):
        outcomes.append(run())
        RateLimitCall.objects.all().delete()  # a minute later: the call window is empty again
        clock.advance(60)

    # 25 slots: the token's call (once a day) and 24 reads; then the rest (19: past half the limit, no
    # spared chat read); then a fresh window's page and one spared chat (the floor's number, 1 a run).
    assert [(r.outcome, r.calls) for r in outcomes[:3]] == [(RunOutcome.BUDGET, 24), (RunOutcome.OK, 19),
                                                           (RunOutcome.OK, 2)]
    assert {r.since for r in outcomes[:2]} == {WATERMARK - OVERLAP}  # the overlap, once: the second run resumed
    # Two chats pages and the top of the list again (the window listed once), then each lost chat
    # read once; the 160 cost nothing. Then the two idle windows' one page each.
    assert len(avito_calls(avito, CHATS_URL + "?")) == 3 + 2
    for each in lost:
        assert len(avito_calls(avito, messages_url(each["id"]))) == 1
    # The 160 cost nothing in the window; spared, they are read one a run after it (runs 3 and 4).
    assert sum(len(avito_calls(avito, messages_url(c["id"]))) for c in known) == 2
    assert all(len(avito_calls(avito, messages_url(c["id"]))) <= 1 for c in known)
    assert DeferredChat.objects.count() == 160 - 2
    delivered = Counter(body["meta"]["external_message_id"] for body in n8n.bodies())
    assert set(delivered.values()) == {1} and len(delivered) == 80
    assert outcomes[1].watermark == NOW + timedelta(seconds=0)  # the window's end: the first run's start


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
