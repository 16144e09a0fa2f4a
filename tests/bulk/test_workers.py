"""Bulk jobs with real processes: gunicorn, Celery workers and beat, the Avito sandbox.

Both flavours: PostgreSQL + Redis (broker, limiter, token) and SQLite + the embedded
filesystem broker (no services at all). Everything is checked from outside: the
gateway's HTTP API, and the chats' histories in the sandbox (so "sent exactly once"
means exactly one copy in Avito, whatever the gateway believes).
"""
from __future__ import annotations

import time
import uuid

import pytest
import requests

from tests.e2e.n8n_standin import N8nStandIn
from tests.e2e.stack import SANDBOX_ACCOUNT, Stack, wait_until

pytestmark = pytest.mark.e2e
BULK = "/api/messages/send/bulk"
# Short Avito timeouts, so a check of a send that failed comes soon.
FAST_RECOVERY = {"CONNECTION_TIMEOUT": "2", "MAX_RETRIES": "1", "RETRY_BACKOFF_BASE": "0.2"}


@pytest.fixture(autouse=True)
def gateway_settings():
    """The processes read their own environment; the in-process settings fixture does not apply."""
    yield


def make_stack(tmp_path_factory, flavour: str, **kwargs) -> Stack:
    """A stack of its own (with PostgreSQL, an empty Redis database of its own, claimed by Stack)."""
    extra = {**FAST_RECOVERY, **kwargs.pop("extra_env", {})}
    return Stack(tmp_path_factory.mktemp(f"bulk-{flavour}"), flavour=flavour, extra_env=extra, **kwargs)


@pytest.fixture(scope="module", params=["postgres", "sqlite"])
def running(request, tmp_path_factory):
    n8n = N8nStandIn().start()
    stack = make_stack(tmp_path_factory, request.param, n8n_url=n8n.url).start()
    yield stack, n8n
    stack.stop()
    n8n.stop()


def api(stack: Stack, method: str, path: str, **kwargs) -> requests.Response:
    return requests.request(method, stack.base_url + path, headers=stack.headers, timeout=30, **kwargs)


def sandbox(stack: Stack, method: str, path: str, **kwargs) -> requests.Response:
    return requests.request(method, stack.sandbox_url + path, timeout=30, **kwargs)


def chat_ids(stack: Stack, count: int) -> list[str]:
    token = sandbox(stack, "POST", "/token", data={"grant_type": "client_credentials", "client_id": "t",
                                                     "client_secret": "t"}).json()["access_token"]
    chats = sandbox(stack, "GET", f"/messenger/v2/accounts/{SANDBOX_ACCOUNT}/chats",
                    params={"limit": 100, "chat_types": "u2i,u2u"}, headers={"Authorization": f"Bearer {token}"})
    ids = [chat["id"] for chat in chats.json()["chats"]]
    assert len(ids) >= count
    return ids[:count]


def copies_in_avito(stack: Stack, chats: set[str], texts: set[str]) -> dict[str, list[str]]:
    """Every outgoing message in those chats whose text is one of ours: {text: [message ids]}."""
    token = sandbox(stack, "POST", "/token", data={"grant_type": "client_credentials", "client_id": "t",
                                                     "client_secret": "t"}).json()["access_token"]
    found: dict[str, list[str]] = {}
    for chat_id in chats:
        page = sandbox(stack, "GET", f"/messenger/v3/accounts/{SANDBOX_ACCOUNT}/chats/{chat_id}/messages/",
                       params={"limit": 100}, headers={"Authorization": f"Bearer {token}"}).json()
        for message in page["messages"] if isinstance(page, dict) else page:
            text = (message.get("content") or {}).get("text")
            if message["direction"] == "out" and text in texts:
                found.setdefault(text, []).append(message["id"])
    return found


def new_job(stack: Stack, count: int, chats: list[str], **extra) -> tuple[str, list[dict]]:
    run = uuid.uuid4().hex[:8]
    items = [{"chat_id": chats[i % len(chats)], "text": f"bulk {run} #{i}"} for i in range(count)]
    response = api(stack, "POST", BULK, json={"messages": items, **extra})
    assert response.status_code == 202, response.text
    return response.json()["job_id"], items


def finished(stack: Stack, job_id: str, timeout: float) -> dict:
    def ended():
        body = api(stack, "GET", f"{BULK}/{job_id}").json()
        return body if body["status"] in ("completed", "cancelled") and body["pending"] == 0 else None

    try:
        return wait_until(ended, timeout, f"bulk job {job_id} to end", interval=0.5)
    except TimeoutError:
        print(api(stack, "GET", f"{BULK}/{job_id}").text, stack.logs(80))
        raise


def assert_each_sent_once(stack: Stack, progress: dict, items: list[dict]) -> None:
    copies = copies_in_avito(stack, {i["chat_id"] for i in items}, {i["text"] for i in items})
    assert {text: len(ids) for text, ids in copies.items()} == {i["text"]: 1 for i in items}
    assert sorted(i["message_id"] for i in progress["items"]) == sorted(ids[0] for ids in copies.values())


def test_a_job_is_sent_by_the_workers_each_item_once(running):
    stack, _ = running
    job_id, items = new_job(stack, 12, chat_ids(stack, 4))
    progress = finished(stack, job_id, 60)
    assert (progress["status"], progress["sent"], progress["failed"]) == ("completed", 12, 0)
    assert_each_sent_once(stack, progress, items)


def test_cancel_stops_a_running_job_and_the_callback_reports_it_signed(running):
    stack, n8n = running
    callback = n8n.url.replace("/webhook/avito-in", "/webhook/bulk-done")
    sandbox(stack, "POST", "/_sandbox/config", json={"delay_ms": 300})  # slow Avito: the job is still running
    try:
        job_id, items = new_job(stack, 30, chat_ids(stack, 5), callback_url=callback)
        wait_until(lambda: api(stack, "GET", f"{BULK}/{job_id}").json()["sent"] >= 2, 30, "the first sends")
        cancelled = api(stack, "POST", f"{BULK}/{job_id}/cancel")
        assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
        progress = finished(stack, job_id, 60)
    finally:
        sandbox(stack, "POST", "/_sandbox/config", json={"delay_ms": 0})
    assert progress["status"] == "cancelled" and progress["cancelled"] > 0
    assert progress["sent"] + progress["cancelled"] == 30
    sent = [i for i in progress["items"] if i["status"] == "sent"]
    copies = copies_in_avito(stack, {i["chat_id"] for i in items}, {i["text"] for i in items})
    assert sum(len(ids) for ids in copies.values()) == len(sent)  # nothing cancelled went out later

    [report] = wait_until(lambda: [r for r in n8n.received if r.path == "/webhook/bulk-done"], 30, "the callback")
    from standardwebhooks import Webhook

    Webhook(stack.n8n_secret).verify(report.body, report.headers)
    body = report.json()
    assert (body["job_id"], body["status"], body["sent"], body["cancelled"]) == (
        job_id, "cancelled", progress["sent"], progress["cancelled"])
    time.sleep(1)
    assert len([r for r in n8n.received if r.path == "/webhook/bulk-done"]) == 1


@pytest.mark.parametrize("flavour", ["sqlite", "postgres"])
def test_a_worker_killed_mid_job_loses_nothing_and_sends_nothing_twice(tmp_path_factory, flavour):
    """Two sends are in flight when their worker is SIGKILLed: Avito stored both, the gateway never
    heard. Its prefetched wake-ups die with it. A second worker and beat's sweep must finish the job
    with every item in Avito exactly once, and soon: the dead worker's leases run out in 30 s
    whatever the send timeouts (with these, the old fixed orphan period was 4 x 4 x 30 + 5 = 485 s)."""
    stack = make_stack(tmp_path_factory, flavour, extra_env={"CONNECTION_TIMEOUT": "30", "MAX_RETRIES": "3"})
    try:
        stack.start(worker=False)
        stack.start_worker("doomed")
        chats = chat_ids(stack, 6)
        sandbox(stack, "POST", "/_sandbox/config", json={"delay_ms": 250})
        job_id, items = new_job(stack, 24, chats)
        wait_until(lambda: api(stack, "GET", f"{BULK}/{job_id}").json()["sent"] >= 3, 60, "the first sends")
        # The next two sends are stored, then Avito hangs: kill the worker while it waits.
        sandbox(stack, "POST", "/_sandbox/config", json={"fail_next": {
            "operation": "postSendMessage", "status": "timeout", "after_commit": True, "hang_ms": 20000, "count": 2}})
        wait_until(lambda: sandbox(stack, "GET", "/_sandbox/stats").json()["faults_injected"] >= 2, 30,
                   "two sends stored and hanging", interval=0.05)
        stack.kill("doomed")
        killed_at = time.monotonic()
        sandbox(stack, "POST", "/_sandbox/config", json={"delay_ms": 0, "clear_faults": True})
        stuck = api(stack, "GET", f"{BULK}/{job_id}").json()
        # Both hanging sends, unless one timed out and was verified just before the kill.
        assert [i["status"] for i in stuck["items"]].count("sending") >= 1, stuck
        assert stuck["pending"] > 0

        stack.start_worker("rescuer")
        progress = finished(stack, job_id, 150)
        print(f"\n{flavour}: the job completed {time.monotonic() - killed_at:.0f} s after the kill")
        assert (progress["status"], progress["sent"], progress["failed"]) == ("completed", 24, 0)
        assert_each_sent_once(stack, progress, items)
    except BaseException:
        print(stack.logs(150))
        raise
    finally:
        stack.stop()
