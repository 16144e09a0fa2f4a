"""Issue 11: Avito holds a send past CONNECTION_TIMEOUT, then stores it. No customer gets it twice.

Against a real HTTP server on loopback (`SlowMessenger`) that stores each send some time after
the client's timeout. The gateway must not send again: it watches the chat for one more
CONNECTION_TIMEOUT and answers with the message that landed; if it lands later still, the
answer is 504 "outcome unknown", and an Idempotency-Key retry or the bulk resolver settles it.
Each test counts the copies in the fake's chat.
"""
from __future__ import annotations

import time

import pytest
from django.test import Client

from core.work import wakeups
from bulk.models import BulkItem
from bulk.selectors import bulk_job_progress
from bulk.sending import bulk_item_resolve, bulk_item_send
from bulk.services import bulk_job_create
from tests.avito.helpers.slow_messenger import SlowMessenger

CHAT = "u2i-YvRiaEtf8Qn~N4sh3mMKkA"
TIMEOUT = 0.5  # CONNECTION_TIMEOUT here; the settle window is as long again

pytestmark = pytest.mark.django_db


def slow_avito(settings, store_after: float) -> SlowMessenger:
    server = SlowMessenger(store_after=store_after)
    settings.AVITO_API_BASE_URL = server.url
    settings.CONNECTION_TIMEOUT = TIMEOUT
    return server


def send(text: str, **headers):
    return Client().post("/api/messages/send", {"chat_id": CHAT, "text": text}, content_type="application/json",
                         **headers)


def test_three_sends_that_land_after_the_timeout_each_reach_the_customer_once(settings):
    """The issue's run: 3 of 3 sends were duplicated. Each lands 0.3 s after the client gave up."""
    with slow_avito(settings, store_after=TIMEOUT + 0.3) as avito:
        answers = [send(f"Добрый день, {n}") for n in range(3)]
        time.sleep(TIMEOUT)  # anything a resend would have stored has landed by now

    assert [a.status_code for a in answers] == [200, 200, 200]
    assert avito.sends == 3
    for n, answer in enumerate(answers):
        [copy] = avito.copies(CHAT, f"Добрый день, {n}")
        assert answer.json()["message_id"] == copy["id"]


def test_a_send_landing_after_the_window_is_504_unknown_and_a_keyed_retry_returns_it(settings):
    with slow_avito(settings, store_after=2 * TIMEOUT + 0.4) as avito:
        first = send("Ваш заказ готов", HTTP_IDEMPOTENCY_KEY="order-42")
        assert first.status_code == 504
        error = first.json()["error"]
        assert (error["code"], error["details"]["outcome"]) == ("upstream_timeout", "unknown")
        assert avito.copies(CHAT, "Ваш заказ готов") == []  # not there yet: Avito is still on it

        time.sleep(0.6)  # it lands
        retry = send("Ваш заказ готов", HTTP_IDEMPOTENCY_KEY="order-42")

    assert retry.status_code == 200 and retry["Idempotent-Replayed"] == "true"
    [copy] = avito.copies(CHAT, "Ваш заказ готов")
    assert retry.json()["message_id"] == copy["id"]
    assert avito.sends == 1


@pytest.fixture
def no_wakeups(monkeypatch):
    """Wake-ups are recorded, not queued: the test runs the worker's steps itself."""
    calls = []
    monkeypatch.setattr(wakeups, "wake_now", lambda task, *args, **options: calls.append((task, args)))
    return calls


def test_bulk_items_that_land_after_the_timeout_are_sent_once_each(settings, no_wakeups):
    texts = [f"Акция {n}" for n in range(3)]
    job = bulk_job_create(items=[{"kind": "text", "chat_id": CHAT, "payload": {"text": t}} for t in texts])
    with slow_avito(settings, store_after=TIMEOUT + 0.3) as avito:
        statuses = [bulk_item_send(item_id=item.id) for item in job.items.order_by("index")]
        time.sleep(TIMEOUT)

    assert statuses == ["sent"] * 3 and avito.sends == 3
    assert all(len(avito.copies(CHAT, t)) == 1 for t in texts)
    progress = bulk_job_progress(job_id=job.id)
    assert (progress["status"], progress["sent"], progress["pending"]) == ("completed", 3, 0)


def test_a_bulk_item_landing_after_the_window_is_unknown_then_settled_by_the_resolver(settings, no_wakeups):
    job = bulk_job_create(items=[{"kind": "text", "chat_id": CHAT, "payload": {"text": "Скидка"}}])
    [item] = job.items.all()
    with slow_avito(settings, store_after=2 * TIMEOUT + 0.4) as avito:
        assert bulk_item_send(item_id=item.id) == "unknown"
        assert bulk_job_progress(job_id=job.id)["unknown"] == 1
        time.sleep(0.6)
        item = BulkItem.objects.get(id=item.id)
        assert bulk_item_resolve(item_id=item.id) == "sent"

    [copy] = avito.copies(CHAT, "Скидка")
    assert BulkItem.objects.get(id=item.id).message_id == copy["id"]
    assert avito.sends == 1
    assert bulk_job_progress(job_id=job.id)["status"] == "completed"
