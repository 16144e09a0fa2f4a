"""Avito "forgets" a notification on demand: `"notify": false` per message, `drop_notifications` for the next N."""

from sandbox_testkit import account_path


def subscribe(client, url):
    assert client.post("/messenger/v3/webhook", {"url": url}).status == 200


def first_chat(client) -> str:
    return client.get(account_path("/chats", version="v2")).json()["chats"][0]["id"]


def test_notify_false_stores_the_message_but_posts_nothing(client, receiver):
    subscribe(client, receiver.url)
    chat_id = first_chat(client)
    quiet = client.post("/_sandbox/messages", {"chat_id": chat_id, "text": "тихо", "notify": False})
    loud = client.post("/_sandbox/messages", {"chat_id": chat_id, "text": "громко"})
    assert quiet.json()["notified"] == 0 and loud.json()["notified"] == 1
    stats = client.get("/_sandbox/stats", query={"wait": "1"}).json()
    assert [d["json"]["payload"]["value"]["id"] for d in receiver.received] == [loud.json()["message"]["id"]]
    assert stats["notifications_dropped"] == 1 and stats["notifications_sent"] == 1
    newest = client.get(account_path(f"/chats/{chat_id}/messages/", version="v3")).json()["messages"]
    assert [m["id"] for m in newest[:2]] == [loud.json()["message"]["id"], quiet.json()["message"]["id"]]


def test_a_new_chat_can_come_without_its_notification(client, receiver):
    subscribe(client, receiver.url)
    answer = client.post("/_sandbox/chats", {"text": "Добрый день!", "notify": False})
    assert answer.status == 200 and answer.json()["notified"] == 0
    assert client.get("/_sandbox/stats", query={"wait": "1"}).json()["notifications_dropped"] == 1


def test_drop_notifications_drops_the_next_n_own_sends_included(client, receiver):
    subscribe(client, receiver.url)
    chat_id = first_chat(client)
    config = client.post("/_sandbox/config", {"drop_notifications": 2}).json()
    assert config["drop_notifications"] == 2
    client.post(account_path(f"/chats/{chat_id}/messages"), {"message": {"text": "наш ответ"}, "type": "text"})
    client.post("/_sandbox/messages", {"chat_id": chat_id, "text": "первое"})
    third = client.post("/_sandbox/messages", {"chat_id": chat_id, "text": "второе"})
    client.get("/_sandbox/stats", query={"wait": "1"})
    assert [d["json"]["payload"]["value"]["id"] for d in receiver.received] == [third.json()["message"]["id"]]
    assert client.get("/_sandbox/config").json()["drop_notifications"] == 0


def test_bad_values_are_refused_with_the_field_named(client):
    chat_id = first_chat(client)
    answer = client.post("/_sandbox/messages", {"chat_id": chat_id, "notify": "no"})
    assert answer.status == 400 and "notify" in answer.json()["error"]["fields"]
    answer = client.post("/_sandbox/config", {"drop_notifications": -1})
    assert answer.status == 400 and "drop_notifications" in answer.json()["error"]["fields"]
    assert client.post("/_sandbox/config", {"drop_notifications": True}).status == 400
