"""The package in a real n8n 2.8.4, against the gateway and the Avito sandbox (opt-in: `-m n8n`).

The reply example as shipped answers a customer exactly once, even when the gateway delivers the
message again; forged, unsigned and stale deliveries get 401 and start no execution; the bulk
example's nodes queue a job, wait for it and report its result.
"""
from __future__ import annotations

import json
import time
import uuid
from datetime import datetime, timezone

import pytest
import requests
from standardwebhooks import Webhook

from core.n8n.signing import signed_headers
from tests.e2e.stack import SANDBOX_ACCOUNT, free_port, wait_until
from tests.n8n.conftest import BULK_WORKFLOW_ID, CREDENTIAL_ID, EXAMPLES, HTTP_WORKFLOW_ID, NODES_WORKFLOW_ID, REPLY_WORKFLOW_ID

pytestmark = [pytest.mark.n8n, pytest.mark.timeout(2400)]
GREETING = "Здравствуйте"


def api(stack, method: str, path: str, **kwargs) -> requests.Response:
    return requests.request(method, stack.base_url + path, headers=stack.headers, timeout=30, **kwargs)


def chats(stack, count: int, offset: int = 0) -> list[str]:
    answer = api(stack, "GET", "/api/chats", params={"limit": 20, "chat_types": "u2i"})
    assert answer.status_code == 200, answer.text
    return [chat["id"] for chat in answer.json()["chats"]][offset:offset + count]


def replies_after(stack, chat_id: str, message_id: str) -> list[dict]:
    """The account's messages in the chat newer than `message_id` (the sandbox lists newest first)."""
    newest = api(stack, "GET", f"/api/chats/{chat_id}/messages", params={"limit": 50}).json()["messages"]
    ids = [message["id"] for message in newest]
    return [m for m in newest[:ids.index(message_id)] if m["author_id"] == SANDBOX_ACCOUNT]


def delivery_of(stack, message_id: str) -> dict | None:
    rows = api(stack, "GET", "/api/deliveries", params={"limit": 50}).json()["deliveries"]
    return next((row for row in rows if row["message_id"] == message_id), None)


def test_customer_message_is_answered_once_even_when_delivered_again(loop):
    stack, n8n = loop["stack"], loop["n8n"]
    [chat_id] = chats(stack, 1)
    text = f"Здравствуйте, ещё продаёте? {uuid.uuid4().hex[:6]}"
    written = requests.post(f"{stack.sandbox_url}/_sandbox/messages", json={"chat_id": chat_id, "text": text},
                            timeout=10).json()["message"]

    [reply] = wait_until(lambda: replies_after(stack, chat_id, written["id"]), 60, "the reply from n8n", interval=0.5)
    assert reply["content"]["text"].startswith(GREETING)
    delivery = wait_until(lambda: (row := delivery_of(stack, written["id"])) and row["status"] == "delivered" and row,
                          30, "the delivery to be marked delivered")
    first_runs = wait_until(lambda: n8n.executions(REPLY_WORKFLOW_ID), 30, "the stored execution")

    # The gateway delivers the same message again (a replay, as after a worker crash): n8n runs again,
    # the reply carries Idempotency-Key reply-<event_id>, and the gateway does not send it twice.
    assert api(stack, "POST", f"/api/deliveries/{delivery['id']}/replay").status_code == 200
    wait_until(lambda: len(n8n.executions(REPLY_WORKFLOW_ID)) > len(first_runs), 60, "the second execution")
    wait_until(lambda: all(run["status"] == "success" for run in n8n.executions(REPLY_WORKFLOW_ID)), 30,
               "the executions to finish")
    assert [m["id"] for m in replies_after(stack, chat_id, written["id"])] == [reply["id"]]


def post_delivery(url: str, body: bytes, headers: dict) -> requests.Response:
    return requests.post(url, data=body, headers={"Content-Type": "application/json", **headers}, timeout=10)


def test_forged_unsigned_and_stale_deliveries_are_refused_without_an_execution(loop):
    stack, n8n, url = loop["stack"], loop["n8n"], loop["webhook_url"]
    [chat_id] = chats(stack, 1, offset=1)
    body = json.dumps({"channel": "avito", "event_id": f"forged-{uuid.uuid4().hex}", "external_chat_id": chat_id,
                       "text": "forged", "client_name": "", "meta": {"direction": "in", "chat_type": "u2i"}}).encode()
    signer = Webhook(stack.n8n_secret)
    now = int(time.time())
    good = {"webhook-id": "forged-1", "webhook-timestamp": str(now)}
    def signed(at: int) -> str:
        return signer.sign("forged-1", datetime.fromtimestamp(at, timezone.utc), body.decode())

    before = len(n8n.executions(REPLY_WORKFLOW_ID))
    forged = Webhook("whsec_" + "QUJD" * 8).sign("forged-1", datetime.fromtimestamp(now, timezone.utc), body.decode())
    attempts = [
        post_delivery(url, body, {**good, "webhook-signature": forged}),
        post_delivery(url, body, good),
        post_delivery(url, body, {"webhook-id": "forged-1", "webhook-timestamp": str(now - 400),
                                  "webhook-signature": signed(now - 400)}),
        post_delivery(url, body.replace(b"forged", b"edited"), {**good, "webhook-signature": signed(now)}),
    ]
    assert [answer.status_code for answer in attempts] == [401, 401, 401, 401]
    assert all(answer.json()["error"]["code"] == "unauthorized" for answer in attempts)
    time.sleep(2)  # an execution, had one started, would be stored by now
    assert len(n8n.executions(REPLY_WORKFLOW_ID)) == before


def test_a_bulk_callback_or_a_replayed_delivery_at_the_trigger_starts_nothing(loop):
    """Both are signed with the gateway's secret: a bulk job's callback aimed at the message workflow's URL
    (the gateway allows n8n's host for callbacks) and a captured delivery sent again within its five minutes."""
    stack, n8n, url = loop["stack"], loop["n8n"], loop["webhook_url"]
    [chat_id] = chats(stack, 1, offset=4)
    callback = json.dumps({"event": "bulk_job.finished", "job_id": str(uuid.uuid4()), "status": "completed",
                           "total": 1, "sent": 1, "failed": 0, "items": []}).encode()
    message = json.dumps({"event": "message", "channel": "avito", "event_id": f"replayed-{uuid.uuid4().hex}",
                          "external_chat_id": chat_id, "text": "Здравствуйте", "client_name": "",
                          "meta": {"direction": "in", "chat_type": "u2i"}}).encode()
    signed_message = signed_headers(msg_id=json.loads(message)["event_id"], payload=message, secret=stack.n8n_secret)
    before = len(n8n.executions(REPLY_WORKFLOW_ID))

    ignored = post_delivery(url, callback, signed_headers(msg_id="bulk_x", payload=callback, secret=stack.n8n_secret))
    assert ignored.status_code == 200 and ignored.json() == {"ok": True, "ignored": "event bulk_job.finished"}
    assert post_delivery(url, message, signed_message).status_code == 200
    wait_until(lambda: len(n8n.executions(REPLY_WORKFLOW_ID)) == before + 1, 60, "the message's execution")
    again = post_delivery(url, message, signed_message)
    assert again.status_code == 200 and again.json()["ignored"].startswith("repeat of webhook-id")
    time.sleep(2)  # an execution, had one started, would be stored by now
    assert len(n8n.executions(REPLY_WORKFLOW_ID)) == before + 1


def test_bulk_offer_through_the_node_completes(loop):
    stack = loop["stack"]
    answer = requests.post(loop["bulk_url"], json={}, timeout=180)
    assert answer.status_code == 200, answer.text
    [job] = answer.json()
    assert job["status"] == "completed" and job["total"] == 5, job
    assert job["sent"] == 5 and job["failed"] == 0
    for item in job["items"]:
        assert item["status"] == "sent" and item["message_id"]
        newest = api(stack, "GET", f"/api/chats/{item['chat_id']}/messages", params={"limit": 5}).json()["messages"]
        assert any(m["id"] == item["message_id"] and "скидка 10%" in m["content"]["text"] for m in newest)


TINY_PNG = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGNgYGAAAAAEAAH2FzhVAAAAAElFTkSuQmCC")


def test_send_image_from_binary_and_gateway_errors_with_continue_on_fail(loop):
    stack = loop["stack"]
    [chat_id] = chats(stack, 1, offset=2)
    bad_chat = "u2i-" + uuid.uuid4().hex
    answer = requests.post(loop["nodes_url"], json={"chat_id": chat_id, "bad_chat_id": bad_chat, "png": TINY_PNG},
                           timeout=120)
    assert answer.status_code == 200, answer.text
    [failed] = answer.json()

    direct = api(stack, "POST", "/api/messages/send", json={"chat_id": bad_chat, "text": "x"})
    assert direct.status_code >= 400
    refused = direct.json()["error"]
    assert failed["code"] == refused["code"] and failed["httpCode"] == str(direct.status_code)
    assert refused["message"] in failed["error"]

    [newest] = api(stack, "GET", f"/api/chats/{chat_id}/messages", params={"limit": 1}).json()["messages"]
    assert newest["type"] == "image" and newest["author_id"] == SANDBOX_ACCOUNT
    [run] = wait_until(lambda: [r for r in loop["n8n"].executions(NODES_WORKFLOW_ID) if r["status"] == "success"],
                       30, "the stored execution")
    assert '"image_id"' in loop["n8n"].execution_data(run["id"])  # Send Image output the gateway's JSON answer


def test_credential_test_tells_a_wrong_key_from_a_wrong_url(loop):
    stack, n8n = loop["stack"], loop["n8n"]
    session = n8n.owner_session()

    def credential_test(base_url: str, api_key: str) -> dict:
        data = {"baseUrl": base_url, "apiKey": api_key, "signingSecret": stack.n8n_secret}
        answer = session.post(f"{n8n.url}/rest/credentials/test", timeout=30, json={"credentials": {
            "id": CREDENTIAL_ID, "name": "avitogw", "type": "avitogwApi", "data": data}})
        assert answer.status_code == 200, answer.text
        return answer.json()["data"]

    right = credential_test(stack.base_url + "/", stack.api_key)
    wrong_key = credential_test(stack.base_url, "not-the-key")
    nothing_there = credential_test(f"http://127.0.0.1:{free_port()}", stack.api_key)
    not_a_gateway = credential_test(stack.sandbox_url, stack.api_key)
    assert right == {"status": "OK", "message": "Connection successful!"}
    # n8n words each HTTP failure itself: 401 "Authorization failed", a refused connection, a 404.
    assert wrong_key == {"status": "Error", "message": "Authorization failed - please check your credentials"}
    assert nothing_there["status"] == "Error" and "refused the connection" in nothing_there["message"]
    assert not_a_gateway["status"] == "Error" and "could not be found" in not_a_gateway["message"]


def test_bulk_offer_fails_naming_the_chat_whose_item_failed(loop):
    stack, n8n = loop["stack"], loop["n8n"]
    runs_before = {run["id"] for run in n8n.executions(BULK_WORKFLOW_ID)}
    fault = {"fail_next": {"operation": "postSendMessage", "status": 400, "count": 1, "message": "Chat is closed"}}
    assert requests.post(f"{stack.sandbox_url}/_sandbox/config", json=fault, timeout=10).status_code == 200

    answer = requests.post(loop["bulk_url"], json={}, timeout=180)
    assert answer.status_code != 200  # n8n answers the webhook with an error: the workflow failed

    [run] = wait_until(lambda: [r for r in n8n.executions(BULK_WORKFLOW_ID) if r["id"] not in runs_before
                                and r["status"] != "running"], 60, "the failed execution")
    assert run["status"] == "error"
    error = n8n.execution_data(run["id"])
    assert "1 of 5 bulk items failed" in error and "Chat is closed" in error


def test_plain_http_example_checks_the_signature_and_replies_from_json(loop):
    """The example for an n8n without community nodes, with the settings its README lists."""
    stack, n8n, url = loop["stack"], loop["n8n"], loop["plain_http_url"]
    [chat_id] = chats(stack, 1, offset=3)
    [newest] = api(stack, "GET", f"/api/chats/{chat_id}/messages", params={"limit": 1}).json()["messages"]
    delivery = {"channel": "avito", "event_id": f"avito-msg-{uuid.uuid4().hex}", "external_chat_id": chat_id,
                "external_user_id": "94235311", "text": "Здравствуйте!", "client_name": "Анна",
                "meta": {"direction": "in", "chat_type": "u2i", "source": "webhook"}}
    body = json.dumps(delivery, ensure_ascii=False).encode()
    runs_before = len(n8n.executions(HTTP_WORKFLOW_ID))

    forged = signed_headers(msg_id=delivery["event_id"], payload=body, secret="whsec_" + "QUJD" * 8)
    assert post_delivery(url, body, forged).status_code == 200  # answered at once; the Code node then refuses it
    [refused] = wait_until(lambda: [r for r in n8n.executions(HTTP_WORKFLOW_ID)[runs_before:]
                                    if r["status"] != "running"], 60, "the refused execution")
    assert refused["status"] == "error" and "Bad webhook-signature" in n8n.execution_data(refused["id"])
    assert replies_after(stack, chat_id, newest["id"]) == []

    good = signed_headers(msg_id=delivery["event_id"], payload=body, secret=stack.n8n_secret)
    assert post_delivery(url, body, good).status_code == 200
    [reply] = wait_until(lambda: replies_after(stack, chat_id, newest["id"]), 60, "the plain-HTTP reply")
    assert reply["content"]["text"].startswith("Здравствуйте, Анна!")


def test_every_example_imports_unchanged(loop):
    stored = loop["n8n"].workflows()
    for index, name in enumerate(["poll-unread-reply.json", "bulk-offer.json"]):
        shipped = json.loads((EXAMPLES / name).read_text(encoding="utf-8"))
        workflow = stored[f"AvitogwShipped{index:02d}"]
        assert workflow["name"] == shipped["name"] and not workflow["published"]
        assert [(n["type"], n["parameters"]) for n in workflow["nodes"]] == \
            [(n["type"], n["parameters"]) for n in shipped["nodes"]]
    assert stored[REPLY_WORKFLOW_ID]["published"] and stored[HTTP_WORKFLOW_ID]["published"]
