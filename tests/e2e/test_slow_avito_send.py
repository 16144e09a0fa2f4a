"""Issue 11 with real processes: Avito holds each send past CONNECTION_TIMEOUT, then stores it.

gunicorn, a Celery worker and beat against the sandbox, whose `store_after_ms` fault holds a
send 1.5 s before storing it while the gateway's CONNECTION_TIMEOUT is 1 s. Counted in the
sandbox's chats, every message must be there exactly once: single sends, a keyed retry after
a 504 "outcome unknown", and a bulk job.
"""
from __future__ import annotations

import time
import uuid

import pytest
import requests

from tests.bulk.test_workers import assert_each_sent_once, chat_ids, copies_in_avito, finished, new_job
from tests.e2e.stack import Stack

pytestmark = pytest.mark.e2e
SLOW_SEND_ENV = {"CONNECTION_TIMEOUT": "1", "MAX_RETRIES": "1", "RETRY_BACKOFF_BASE": "0.2"}


@pytest.fixture(autouse=True)
def gateway_settings():
    """The processes read their own environment; the in-process settings fixture does not apply."""
    yield


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def stack(request, tmp_path_factory):
    stack = Stack(tmp_path_factory.mktemp(f"slow-send-{request.param}"), flavour=request.param,
                  extra_env=SLOW_SEND_ENV).start()
    yield stack
    stack.stop()


def api(stack: Stack, method: str, path: str, **kwargs) -> requests.Response:
    return requests.request(method, stack.base_url + path, headers={**stack.headers, **kwargs.pop("headers", {})},
                            timeout=60, **kwargs)


def avito_stores_late(stack: Stack, *, after_ms: int, count: int) -> None:
    response = requests.post(f"{stack.sandbox_url}/_sandbox/config", timeout=10, json={"fail_next": {
        "operation": "postSendMessage", "status": "timeout", "store_after_ms": after_ms, "count": count}})
    assert response.status_code == 200, response.text


def test_single_sends_that_land_after_the_timeout_reach_the_customer_once(stack):
    chat = chat_ids(stack, 1)[0]
    texts = [f"slow {uuid.uuid4().hex[:8]} #{n}" for n in range(3)]
    avito_stores_late(stack, after_ms=1500, count=3)
    try:
        answers = [api(stack, "POST", "/api/messages/send", json={"chat_id": chat, "text": t}) for t in texts]
        time.sleep(1.5)  # whatever a resend would have stored has landed by now
        assert [a.status_code for a in answers] == [200, 200, 200], [a.text for a in answers]
        copies = copies_in_avito(stack, {chat}, set(texts))
        assert {t: len(ids) for t, ids in copies.items()} == {t: 1 for t in texts}
        assert [a.json()["message_id"] for a in answers] == [copies[t][0] for t in texts]
    except BaseException:
        print(stack.logs(80))
        raise


def test_a_send_landing_after_the_window_is_504_and_a_keyed_retry_returns_it(stack):
    chat = chat_ids(stack, 1)[0]
    text = f"very slow {uuid.uuid4().hex[:8]}"
    avito_stores_late(stack, after_ms=3000, count=1)  # after the 1 s timeout and the 1 s settle window
    key = {"Idempotency-Key": uuid.uuid4().hex}
    first = api(stack, "POST", "/api/messages/send", json={"chat_id": chat, "text": text}, headers=key)
    assert first.status_code == 504, first.text
    assert first.json()["error"]["details"]["outcome"] == "unknown"
    time.sleep(1.5)
    retry = api(stack, "POST", "/api/messages/send", json={"chat_id": chat, "text": text}, headers=key)
    assert retry.status_code == 200 and retry.headers["Idempotent-Replayed"] == "true", retry.text
    copies = copies_in_avito(stack, {chat}, {text})
    assert copies == {text: [retry.json()["message_id"]]}


def test_a_bulk_job_whose_sends_land_after_the_timeout_sends_each_item_once(stack):
    chats = chat_ids(stack, 3)
    avito_stores_late(stack, after_ms=1500, count=4)
    job_id, items = new_job(stack, 6, chats)
    progress = finished(stack, job_id, 120)
    time.sleep(1.5)
    assert (progress["status"], progress["sent"], progress["failed"]) == ("completed", 6, 0), progress
    assert_each_sent_once(stack, progress, items)
