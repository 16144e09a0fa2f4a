"""Webhook subscriptions and the v3 notifications the sandbox POSTs to subscribers."""

import re
import threading

from sandbox_testkit import ACCOUNT_ID, account_path


def subscribe(client, url):
    answer = client.post("/messenger/v3/webhook", {"url": url})
    assert answer.status == 200 and answer.json() == {"ok": True}


def u2i_chat(client) -> dict:
    return client.get(account_path("/chats", version="v2")).json()["chats"][0]


def test_subscribe_list_unsubscribe(client):
    subscribe(client, "http://127.0.0.1:9/webhook/avito/s3cret")
    subscribe(client, "http://127.0.0.1:9/webhook/avito/s3cret")  # twice is still one subscription
    listed = client.post("/messenger/v1/subscriptions").json()
    assert listed == {"subscriptions": [{"url": "http://127.0.0.1:9/webhook/avito/s3cret", "version": "3"}]}
    gone = client.post("/messenger/v1/webhook/unsubscribe", {"url": "http://127.0.0.1:9/webhook/avito/s3cret"})
    assert gone.json() == {"ok": True}
    assert client.post("/messenger/v1/subscriptions").json() == {"subscriptions": []}
    assert client.post("/messenger/v3/webhook", {"url": "ftp://nope"}).status == 400
    assert client.post("/messenger/v3/webhook", {}).status == 400
    assert client.get("/messenger/v1/subscriptions").status == 405


def test_customer_message_reaches_subscribers_in_avito_v3_shape(client, receiver, clock):
    subscribe(client, receiver.url)
    chat = u2i_chat(client)
    customer = next(user["id"] for user in chat["users"] if user["id"] != ACCOUNT_ID)
    created = client.post("/_sandbox/messages", {"chat_id": chat["id"], "text": "Здравствуйте, ещё продаёте?"})
    assert created.status == 200 and created.json()["notified"] == 1
    [delivery] = receiver.wait_for(1)
    assert delivery["path"] == "/avito-hook"
    assert delivery["headers"]["Content-Type"].startswith("application/json")
    body = delivery["json"]
    assert set(body) == {"id", "version", "timestamp", "payload"}
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", body["id"])
    assert body["version"] == "v3.0.0" and body["timestamp"] == int(clock.now)
    assert body["payload"]["type"] == "message"
    value = body["payload"]["value"]
    assert value == {
        "id": created.json()["message"]["id"], "chat_id": chat["id"], "user_id": ACCOUNT_ID,
        "author_id": customer, "created": int(clock.now), "type": "text", "chat_type": "u2i",
        "content": {"text": "Здравствуйте, ещё продаёте?"}, "item_id": chat["context"]["value"]["id"],
        "published_at": "2025-10-09T08:53:20Z", "read": None,
    }


def test_own_sends_are_echoed_and_u2u_has_no_item(client, receiver):
    subscribe(client, receiver.url)
    u2u = client.get(account_path("/chats", version="v2"), query={"chat_types": "u2u"}).json()["chats"][0]
    sent = client.post(account_path(f"/chats/{u2u['id']}/messages"), {"message": {"text": "ok"}, "type": "text"})
    [delivery] = receiver.wait_for(1)
    value = delivery["json"]["payload"]["value"]
    assert value["id"] == sent.json()["id"]
    assert value["author_id"] == value["user_id"] == ACCOUNT_ID  # the echo clients must filter
    assert value["chat_type"] == "u2u" and value["item_id"] is None


def test_every_subscriber_gets_it_and_failures_are_counted(client, receiver, make_app):
    subscribe(client, receiver.url)
    subscribe(client, "http://127.0.0.1:9/unreachable")
    answer = client.post("/_sandbox/messages", {"chat_id": u2i_chat(client)["id"]})
    assert answer.json()["notified"] == 2
    receiver.wait_for(1)
    stats = client.get("/_sandbox/stats", query={"wait": "1"}).json()
    assert stats["notifications_sent"] == 1 and stats["notifications_failed"] == 1
    log = client.get("/_sandbox/notifications").json()["notifications"]
    failed = next(entry for entry in log if entry["url"].endswith("/unreachable"))
    assert failed["status"] is None and failed["error"]


def test_a_non_2xx_answer_counts_as_failed(client, receiver):
    receiver.status = 500
    subscribe(client, receiver.url)
    client.post("/_sandbox/messages", {"chat_id": u2i_chat(client)["id"]})
    receiver.wait_for(1)
    stats = client.get("/_sandbox/stats", query={"wait": "1"}).json()
    assert stats["notifications_failed"] == 1 and stats["notifications_sent"] == 0


def test_a_slow_subscriber_does_not_hold_the_request(client, receiver):
    receiver.gate = threading.Event()  # the receiver answers only when the test says so
    subscribe(client, receiver.url)
    answer = client.post(account_path(f"/chats/{u2i_chat(client)['id']}/messages"),
                         {"message": {"text": "быстро"}, "type": "text"})
    assert answer.status == 200 and receiver.received == []
    receiver.gate.set()
    assert len(receiver.wait_for(1)) == 1


def test_probe_posts_an_empty_object_when_enabled(client, receiver):
    client.post("/_sandbox/config", {"probe_webhooks": True})
    subscribe(client, receiver.url)
    [probe] = receiver.wait_for(1)
    assert probe["raw"] == b"{}"
