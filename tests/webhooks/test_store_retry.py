"""The webhook's INSERT meets a failing database: it retries on a new connection within Avito's 2 s,
and a notification that still cannot be stored is logged with its message id and refused with 503."""
from __future__ import annotations

import logging

import pytest
from django.db import OperationalError

import webhooks.intake as intake
from tests.webhooks.avito_payloads import notification, post_notification
from webhooks.models import IncomingEvent

pytestmark = pytest.mark.django_db(transaction=True)  # the retry is for autocommit: a test transaction would forbid it


@pytest.fixture
def wakeups(monkeypatch):
    woken = []
    monkeypatch.setattr(intake, "wake_coalesced", woken.append)
    return woken


def failing_first(monkeypatch, failures: int):
    real = intake._insert
    calls = []

    def insert(*args, **kwargs):
        calls.append(1)
        if len(calls) <= failures:
            raise OperationalError("terminating connection due to administrator command")
        return real(*args, **kwargs)

    monkeypatch.setattr(intake, "_insert", insert)
    return calls


def test_a_restarting_database_costs_a_few_tries_not_the_notification(client, monkeypatch, wakeups):
    calls = failing_first(monkeypatch, failures=5)  # the database is back after ~0.5 s
    response = post_notification(client, notification(message_id="restart-1"))

    assert (response.status_code, response.json()) == (200, {"ok": True})
    assert len(calls) == 6
    assert IncomingEvent.objects.get().message_id == "restart-1"
    assert len(wakeups) == 1


def test_a_database_down_for_the_whole_budget_is_logged_and_answered_503(client, monkeypatch, wakeups, caplog):
    calls = failing_first(monkeypatch, failures=1000)
    with caplog.at_level(logging.ERROR, logger="webhooks.intake"):
        response = post_notification(client, notification(message_id="lost-7"))

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "dependency_unavailable"
    assert response.json()["error"]["details"] == {"message_id": "lost-7"}
    assert 10 <= len(calls) <= 16  # every 0.1 s for 1.5 s, then it gives up inside Avito's 2 s
    assert [r for r in caplog.records if r.levelno == logging.ERROR and "lost-7" in r.getMessage()]
    assert not wakeups
