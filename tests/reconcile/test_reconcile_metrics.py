"""Reconciliation in `GET /metrics`: runs counted by outcome where they finish, the messages they found,
and the age of the last success read from the database at scrape time (as tests/ops/test_metrics.py).

Counters accumulate over the test session (multiprocess files outlive a test), so each test
compares a scrape before and after.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from reconcile.models import ReconcileRun, ReconcileState, RunOutcome
from tests.ops.metrics_scrape import value
from tests.reconcile.conftest import CHATS_URL, NOW, chat, message, messages_url

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("reconcile_settings", "eager")]


def scrape() -> str:
    response = Client().get("/metrics")
    assert response.status_code == 200, response.content
    return response.content.decode()


def counts() -> dict[str, float]:
    text = scrape()
    found = sum(value(text, "avitogw_reconcile_messages_found_total", trigger=t) for t in ("beat", "command"))
    return {**{o: value(text, "avitogw_reconcile_runs_total", outcome=o) for o in ("started", "ok", "error")},
            "found": found, "found_beat": value(text, "avitogw_reconcile_messages_found_total", trigger="beat")}


def test_each_run_is_counted_by_outcome_with_the_messages_it_found(avito, n8n, run, clock):
    before = counts()
    assert run().outcome == RunOutcome.STARTED  # the first start: the watermark is set, nothing read
    new_at = NOW + timedelta(seconds=20)
    clock.advance(60)
    # Another chat's notification was missed too: u2i-a is read in full (two new messages).
    avito.get(CHATS_URL, json={"chats": [chat("u2i-a", updated=new_at, last=message("m-2", created=new_at)),
                                         chat("u2i-b", updated=NOW, last=message("m-b", created=NOW))],
                               "meta": {"has_more": False}})
    avito.get(messages_url("u2i-b"), json={"messages": [message("m-b", created=NOW)], "meta": {"has_more": False}})
    avito.get(messages_url("u2i-a"), json={"messages": [message("m-1", created=new_at), message("m-2", created=new_at)],
                                           "meta": {"has_more": False}})
    ReconcileState.objects.filter(id=1).update(watermark=NOW - timedelta(seconds=30))
    assert run().messages_found == 3
    after = counts()
    assert {key: after[key] - before[key] for key in after} == {
        "started": 1, "ok": 1, "error": 0, "found": 3, "found_beat": 3}


def test_a_run_that_fails_is_counted_as_error(avito, run):
    before = counts()
    ReconcileState.objects.create(id=1, watermark=NOW - timedelta(minutes=1))
    avito.get(CHATS_URL, json={"result": {"message": "boom"}}, status=500)
    assert run().outcome == RunOutcome.ERROR
    assert counts()["error"] - before["error"] == 1


def test_the_last_success_age_and_the_interval_are_read_at_scrape_time(settings):
    text = scrape()
    assert value(text, "avitogw_reconcile_interval_seconds") == 60
    assert "avitogw_reconcile_last_success_age_seconds" not in text  # no run yet
    now = timezone.now()
    ReconcileRun.objects.create(started_at=now - timedelta(seconds=92), finished_at=now - timedelta(seconds=90),
                                outcome=RunOutcome.OK)
    ReconcileRun.objects.create(started_at=now - timedelta(seconds=12), finished_at=now - timedelta(seconds=10),
                                outcome=RunOutcome.ERROR)  # a failure is no success: the age goes on
    age = value(scrape(), "avitogw_reconcile_last_success_age_seconds")
    assert 90 <= age < 120
    assert "avitogw_reconcile_lag_seconds" not in scrape()  # no watermark yet
    ReconcileState.objects.create(id=1, watermark=now - timedelta(seconds=340))
    assert 340 <= value(scrape(), "avitogw_reconcile_lag_seconds") < 360
    settings.RECONCILE_INTERVAL = 0
    assert value(scrape(), "avitogw_reconcile_interval_seconds") == 0
