"""The /_sandbox control hooks: simulated customers, stats, reset, live config and fault injection."""

import pytest

from sandbox_testkit import ACCOUNT_ID, WsgiClient, account_path
from sandbox.content import WEBHOOK_TYPES

CHATS = account_path("/chats", version="v2")


def chat_ids(client, **query):
    return [chat["id"] for chat in client.get(CHATS, query=query).json()["chats"]]


def send(client, chat_id, text="Добрый день"):
    return client.post(account_path(f"/chats/{chat_id}/messages"), {"message": {"text": text}, "type": "text"})


def test_customer_message_makes_the_chat_unread_and_newest(client, clock):
    read_chat = next(chat_id for chat_id in chat_ids(client)
                     if chat_id not in chat_ids(client, unread_only="true"))
    clock.advance(10)
    answer = client.post("/_sandbox/messages", {"chat_id": read_chat, "text": "Ещё актуально?"})
    assert answer.status == 200
    message = answer.json()["message"]
    assert message["direction"] == "in" and message["is_read"] is False and message["read"] is None
    assert message["content"] == {"text": "Ещё актуально?"} and message["author_id"] != ACCOUNT_ID
    assert answer.json()["notified"] == 0
    assert chat_ids(client)[0] == read_chat
    assert read_chat in chat_ids(client, unread_only="true")


@pytest.mark.parametrize("kind", WEBHOOK_TYPES)
def test_customer_message_of_every_type_gets_fitting_content(client, kind):
    chat_id = chat_ids(client)[0]
    message = client.post("/_sandbox/messages", {"chat_id": chat_id, "type": kind}).json()["message"]
    assert message["type"] == kind
    expected_key = {"text": "text", "image": "image", "voice": "voice", "link": "link", "item": "item",
                    "location": "location", "call": "call", "system": "flow_id"}.get(kind)
    assert (expected_key in message["content"]) if expected_key else message["content"] == {}


def test_customer_message_validation(client):
    assert client.post("/_sandbox/messages", {"text": "no chat"}).status == 400
    assert client.post("/_sandbox/messages", {"chat_id": "u2i-nope"}).status == 404
    bad = client.post("/_sandbox/messages", {"chat_id": chat_ids(client)[0], "type": "sticker"})
    assert bad.status == 400 and "type" in bad.json()["error"]["fields"]
    own = client.post("/_sandbox/messages", {"chat_id": chat_ids(client)[0], "author_id": ACCOUNT_ID})
    assert own.json()["message"]["direction"] == "out"


def test_create_chat(client):
    answer = client.post("/_sandbox/chats", {"user_name": "Анна Смирнова", "item_title": "iPhone 13 128 ГБ",
                                             "price": 52000, "text": "Здравствуйте!"})
    assert answer.status == 200
    chat = answer.json()["chat"]
    assert chat["id"].startswith("u2i-") and chat["context"]["value"]["price_string"] == "52 000 ₽"
    assert "Анна Смирнова" in {user["name"] for user in chat["users"]}
    assert chat["last_message"]["content"] == {"text": "Здравствуйте!"}
    assert chat_ids(client)[0] == chat["id"]
    u2u = client.post("/_sandbox/chats", {"chat_type": "u2u"}).json()["chat"]
    assert u2u["id"].startswith("u2u-") and "context" not in u2u
    assert client.post("/_sandbox/chats", {"chat_type": "x2y"}).status == 400


def test_stats_count_operations_and_reset_restores_everything(client):
    chat_id = chat_ids(client)[0]
    send(client, chat_id)
    client.post("/_sandbox/chats", {})
    stats = client.get("/_sandbox/stats").json()
    assert stats["requests"] == {"getAccessToken": 1, "getChatsV2": 1, "postSendMessage": 1}
    assert stats["sends"] == 1 and stats["token_requests"] == 1 and stats["chats"] == 31
    reset = client.post("/_sandbox/reset")
    assert reset.status == 200
    stats = client.get("/_sandbox/stats").json()
    assert stats["requests"] == {} and stats["sends"] == 0 and stats["chats"] == 30
    assert chat_ids(client)[0] == chat_id  # tokens survive a reset; the seeded data is back
    assert client.post("/_sandbox/reset", {"chats": 3, "seed": 2}).json()["chats"] == 3


def test_blacklist(client):
    path = account_path("/blacklist", version="v2")
    body = {"users": [{"user_id": 94235311, "context": {"item_id": 1768287444, "reason_id": 1}},
                      {"user_id": 5}]}
    answer = client.post(path, body)
    assert answer.status == 200 and answer.json() == {}
    assert client.get("/_sandbox/blacklist").json() == body
    for bad in ({"users": [{"user_id": 1, "context": {"reason_id": 5}}]}, {"users": []}, {"users": [{}]}):
        assert client.post(path, bad).status == 400


def test_rate_limit_answers_429_with_retry_after(make_app, clock):
    client = WsgiClient(make_app(rate=(3, 60)))
    client.login()
    answers = [client.get(CHATS) for _ in range(4)]
    assert [a.status for a in answers] == [200, 200, 200, 429]
    assert [a.headers["x-ratelimit-remaining"] for a in answers] == ["2", "1", "0", "0"]
    limited = answers[-1]
    assert limited.json() == {"error": {"code": 429, "message": "Too Many Requests"}}
    assert limited.headers["retry-after"] == "60" and limited.headers["x-ratelimit-limit"] == "3"
    client.login()  # /token is not limited
    clock.advance(30)
    assert client.get(CHATS).headers["retry-after"] == "30"
    clock.advance(30)
    assert client.get(CHATS).status == 200
    assert client.get("/_sandbox/stats").json()["rate_limited"] == 2


def test_rate_can_be_changed_live(client):
    assert client.post("/_sandbox/config", {"rate": "1/2"}).json()["rate"] == "1/2"
    assert [client.get(CHATS).status for _ in range(2)] == [200, 429]
    client.post("/_sandbox/config", {"rate": None})
    assert client.get(CHATS).status == 200


def test_fail_next_before_commit_stores_nothing(client):
    chat_id = chat_ids(client)[0]
    client.post("/_sandbox/config", {"fail_next": {"operation": "postSendMessage", "status": 503}})
    failed = send(client, chat_id, "не дойдёт")
    assert failed.status == 503 and failed.json()["error"]["code"] == 503
    last = client.get(account_path(f"/chats/{chat_id}", version="v2")).json()["last_message"]
    assert last["content"] != {"text": "не дойдёт"}
    assert send(client, chat_id).status == 200  # count 1: only the next call failed


def test_fail_next_after_commit_stores_the_message_but_answers_500(client, sleeps):
    chat_id = chat_ids(client)[0]
    client.post("/_sandbox/config", {"fail_next": {"operation": "postSendMessage", "status": 500,
                                                   "after_commit": True, "hang_ms": 1500}})
    failed = send(client, chat_id, "дойдёт, но ответ 500")
    assert failed.status == 500 and sleeps == [1.5]
    last = client.get(account_path(f"/chats/{chat_id}", version="v2")).json()["last_message"]
    assert last["content"] == {"text": "дойдёт, но ответ 500"}
    assert client.get("/_sandbox/stats").json()["faults_injected"] == 1


def test_store_after_ms_holds_the_send_before_storing_it(client, app):
    """Issue 11's Avito: the message lands only after the hold, when a client has given up."""
    chat_id = chat_ids(client)[0]
    client.post("/_sandbox/config", {"fail_next": {"operation": "postSendMessage", "status": "timeout",
                                                   "store_after_ms": 1500, "hang_ms": 0}})
    seen_during_hold = []

    def hold(seconds):
        last = client.get(account_path(f"/chats/{chat_id}", version="v2")).json()["last_message"]
        seen_during_hold.append((seconds, last["content"]))

    app.sleep = hold
    late = send(client, chat_id, "дойдёт позже")
    assert late.status == 504
    assert seen_during_hold == [(1.5, seen_during_hold[0][1])] and seen_during_hold[0][1] != {"text": "дойдёт позже"}
    last = client.get(account_path(f"/chats/{chat_id}", version="v2")).json()["last_message"]
    assert last["content"] == {"text": "дойдёт позже"}
    assert send(client, chat_id, "сразу").status == 200  # count 1
    assert client.get("/_sandbox/stats").json()["faults_injected"] == 1


def test_fail_next_timeout_and_delay_use_the_sleep(client, sleeps):
    client.post("/_sandbox/config", {"delay_ms": 250, "fail_next": {"operation": "*", "status": "timeout"}})
    assert client.get(CHATS).status == 504
    assert sleeps == [0.25, 30.0]
    assert client.get("/_sandbox/config").json()["fail_next"] == []


def test_config_validation_changes_nothing(client):
    answer = client.post("/_sandbox/config", {"rate": "lots", "delay_ms": -1, "bogus": 1,
                                              "fail_next": {"status": 500}})
    assert answer.status == 400
    assert set(answer.json()["error"]["fields"]) == {"rate", "delay_ms", "bogus", "fail_next"}
    assert client.get("/_sandbox/config").json()["delay_ms"] == 0


def test_unknown_paths_and_methods_answer_in_avito_shape(client):
    missing = client.get("/messenger/v9/nothing")
    assert missing.status == 404 and missing.json()["error"] == {"code": 404, "message": missing.json()["error"]["message"]}
    wrong = client.request("DELETE", CHATS)
    assert wrong.status == 405 and wrong.json()["error"]["code"] == 405 and wrong.headers["allow"] == "GET"
