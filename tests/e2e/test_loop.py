"""The whole loop with real processes: Avito (the sandbox) -> gateway -> n8n, and n8n -> gateway -> Avito.

Runs against both flavours of the stack (conftest). Every check is made from outside:
HTTP to the gateway and the sandbox, and what the n8n stand-in received.
"""
from __future__ import annotations

import uuid

import pytest
import requests
from standardwebhooks import Webhook

from tests.e2e.stack import wait_until

pytestmark = pytest.mark.e2e


def api(stack, method: str, path: str, **kwargs) -> requests.Response:
    return requests.request(method, stack.base_url + path, headers=stack.headers, timeout=30, **kwargs)


def customer_writes(stack, chat_id: str, text: str) -> dict:
    response = requests.post(f"{stack.sandbox_url}/_sandbox/messages", json={"chat_id": chat_id, "text": text},
                             timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def delivered(n8n, text: str) -> list:
    return [item for item in n8n.received if item.json().get("text") == text]


def some_chats(stack, count: int) -> list[str]:
    response = api(stack, "GET", "/api/chats", params={"limit": 20})
    assert response.status_code == 200, response.text
    chats = [chat["id"] for chat in response.json()["chats"]]
    assert len(chats) >= count
    return chats[:count]


def test_subscribe_registers_the_gateway_with_avito(stack):
    response = api(stack, "POST", "/api/webhook/subscribe", json={})
    assert response.status_code == 200, response.text
    assert response.json() == {"ok": True, "url": f"{stack.base_url}/webhook/avito/{stack.webhook_secret}"}
    listed = api(stack, "GET", "/api/webhook/subscriptions").json()["subscriptions"]
    assert {"url": response.json()["url"], "version": "3"} in listed


def test_customer_message_reaches_n8n_normalized_and_signed(stack, n8n):
    api(stack, "POST", "/api/webhook/subscribe", json={})
    [chat_id] = some_chats(stack, 1)
    text = f"Здравствуйте, ещё продаёте? {uuid.uuid4().hex[:6]}"
    sent = customer_writes(stack, chat_id, text)

    [received] = wait_until(lambda: delivered(n8n, text), 30, "the delivery to n8n")
    body = received.json()
    Webhook(stack.n8n_secret).verify(received.body, received.headers)  # raises on a bad signature
    assert received.headers["webhook-id"] == body["event_id"]
    assert body["channel"] == "avito"
    assert body["external_chat_id"] == chat_id
    assert body["meta"]["external_message_id"] == sent["message"]["id"]
    assert body["meta"]["direction"] == "in"
    assert body["client_name"]
    assert set(body["media"]) == {"has_voice", "voice_url", "has_images", "images", "has_video", "has_document"}


def test_reply_through_the_gateway_appears_in_avito(stack):
    [chat_id] = some_chats(stack, 1)
    text = f"Да, продаём. {uuid.uuid4().hex[:6]}"
    response = api(stack, "POST", "/api/messages/send", json={"chat_id": chat_id, "text": text})
    assert response.status_code == 200, response.text
    message_id = response.json()["message_id"]
    newest = api(stack, "GET", f"/api/chats/{chat_id}/messages", params={"limit": 5}).json()["messages"]
    assert newest[0]["id"] == message_id
    assert newest[0]["content"]["text"] == text


def test_unread_all_then_mark_read(stack):
    [chat_id] = some_chats(stack, 1)
    text = f"Можно посмотреть сегодня? {uuid.uuid4().hex[:6]}"
    customer_writes(stack, chat_id, text)

    unread = api(stack, "GET", "/api/messages/unread/all").json()
    assert text in [message["text"] for message in unread["messages"]]
    assert unread["count"] == len(unread["messages"])

    api(stack, "GET", "/api/messages/unread/all", params={"mark_read": "true"})
    still_unread = api(stack, "GET", "/api/chats", params={"unread_only": "true"}).json()["chats"]
    assert chat_id not in [chat["id"] for chat in still_unread]


def test_bulk_job_sends_every_item_once(stack):
    chats = some_chats(stack, 4)
    tag = uuid.uuid4().hex[:6]
    items = [{"chat_id": chat_id, "text": f"Скидка 10% для вас {tag}"} for chat_id in chats]
    response = api(stack, "POST", "/api/messages/send/bulk", json={"messages": items})
    assert response.status_code == 202, response.text
    job_id = response.json()["job_id"]

    def finished():
        status = api(stack, "GET", f"/api/messages/send/bulk/{job_id}").json()
        return status if status["status"] == "completed" else None

    status = wait_until(finished, 60, "the bulk job")
    assert (status["sent"], status["failed"], status["pending"]) == (len(items), 0, 0)
    for chat_id in chats:
        newest = api(stack, "GET", f"/api/chats/{chat_id}/messages", params={"limit": 10}).json()["messages"]
        assert [m["content"].get("text") for m in newest].count(f"Скидка 10% для вас {tag}") == 1


def test_delivery_survives_n8n_down_and_back(stack, n8n):
    api(stack, "POST", "/api/webhook/subscribe", json={})
    [chat_id] = some_chats(stack, 1)
    n8n.failing = True
    text = f"Вы тут? {uuid.uuid4().hex[:6]}"
    customer_writes(stack, chat_id, text)

    def failed_attempt():
        rows = api(stack, "GET", "/api/deliveries").json()
        rows = rows.get("deliveries", rows) if isinstance(rows, dict) else rows
        return [row for row in rows if row.get("attempts", 0) >= 1 and row.get("status") != "delivered"]

    wait_until(failed_attempt, 30, "a failed delivery attempt")
    assert not delivered(n8n, text)
    n8n.failing = False
    wait_until(lambda: delivered(n8n, text), 60, "the delivery once n8n is back")


def test_nothing_lost_when_the_worker_is_killed(stack, n8n):
    api(stack, "POST", "/api/webhook/subscribe", json={})
    chats = some_chats(stack, 3)
    stack.kill("worker")
    texts = [f"Сообщение {i} {uuid.uuid4().hex[:6]}" for i in range(6)]
    for index, text in enumerate(texts):
        customer_writes(stack, chats[index % len(chats)], text)
    stack.start_worker()
    for text in texts:
        wait_until(lambda text=text: delivered(n8n, text), 60, f"delivery of {text!r}")
    ids = [item.headers["webhook-id"] for item in n8n.received if item.json().get("text") in texts]
    assert len(set(ids)) == len(texts)
