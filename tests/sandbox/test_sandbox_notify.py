"""``POST /_sandbox/notify``: any notification to any URL, for a receiver's checks Avito never trips."""

from sandbox_testkit import ACCOUNT_ID, WsgiClient, account_path


def test_one_accounts_message_with_another_user_id(make_app, receiver):
    app = make_app(account_count=2)
    client = WsgiClient(app)
    client.login(client_id=f"client-{ACCOUNT_ID}", client_secret=f"secret-{ACCOUNT_ID}")
    chat = client.get(account_path("/chats", version="v2")).json()["chats"][0]
    answer = client.post("/_sandbox/notify", {"url": receiver.url, "chat_id": chat["id"], "user_id": ACCOUNT_ID + 1})
    assert answer.status == 200
    delivery = answer.json()["delivery"]
    assert delivery["status"] == 200 and delivery["error"] is None and delivery["url"] == receiver.url
    [received] = receiver.wait_for(1)
    value = received["json"]["payload"]["value"]
    assert received["json"] == answer.json()["body"]
    assert value["user_id"] == ACCOUNT_ID + 1 and value["chat_id"] == chat["id"]
    assert value["id"] == chat["last_message"]["id"] and value["author_id"] == chat["last_message"]["author_id"]
    assert delivery["message_id"] == value["id"] and delivery["event_id"] == received["json"]["id"]


def test_a_chosen_message_unchanged_and_a_raw_body(client, receiver):
    stored = client.get("/_sandbox/stats").json()["messages"]
    chat_id = client.get(account_path("/chats", version="v2")).json()["chats"][0]["id"]
    first = client.get(account_path(f"/chats/{chat_id}/messages/", version="v3")).json()["messages"][-1]
    answer = client.post("/_sandbox/notify", {"url": receiver.url, "chat_id": chat_id, "message_id": first["id"]})
    assert answer.json()["body"]["payload"]["value"]["id"] == first["id"]
    assert answer.json()["body"]["payload"]["value"]["user_id"] == ACCOUNT_ID
    raw = client.post("/_sandbox/notify", {"url": receiver.url, "body": {"anything": ["at", "all"]}})
    assert raw.json()["delivery"]["status"] == 200
    assert [d["json"] for d in receiver.wait_for(2)][1] == {"anything": ["at", "all"]}
    stats = client.get("/_sandbox/stats").json()
    assert stats["notifications_sent"] == 2 and stats["accounts"][str(ACCOUNT_ID)]["notifications_sent"] == 0
    assert stats["messages"] == stored  # notify stores nothing


def test_a_failed_delivery_is_answered_not_raised(client, receiver):
    receiver.status = 403
    answer = client.post("/_sandbox/notify", {"url": receiver.url, "body": {}})
    assert answer.status == 200 and answer.json()["delivery"]["status"] == 403
    unreachable = client.post("/_sandbox/notify", {"url": "http://127.0.0.1:9/x", "body": {}}).json()["delivery"]
    assert unreachable["status"] is None and unreachable["error"]


def test_validation(client):
    chat_id = client.get(account_path("/chats", version="v2")).json()["chats"][0]["id"]
    bad = client.post("/_sandbox/notify", {"url": "ftp://x", "user_id": "1"})
    assert bad.status == 400 and set(bad.json()["error"]["fields"]) == {"url", "body", "user_id"}
    both = client.post("/_sandbox/notify", {"url": "http://127.0.0.1:9/", "body": {}, "chat_id": chat_id})
    assert both.status == 400
    assert client.post("/_sandbox/notify", {"url": "http://127.0.0.1:9/", "chat_id": "u2i-nope"}).status == 404
    missing = client.post("/_sandbox/notify", {"url": "http://127.0.0.1:9/", "chat_id": chat_id, "message_id": "no"})
    assert missing.status == 404
