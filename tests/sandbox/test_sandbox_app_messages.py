"""A message typed in Avito's own app: the account's own, stored and echoed exactly like an API send."""

from sandbox_testkit import ACCOUNT_ID, WsgiClient, account_path


def u2i_chat(client, **query) -> dict:
    return client.get(account_path("/chats", version="v2"), query=query).json()["chats"][0]


def test_an_app_message_is_an_outgoing_message_of_the_account(client, clock):
    chat = u2i_chat(client, unread_only="true")
    clock.advance(30)
    answer = client.post("/_sandbox/app_messages", {"chat_id": chat["id"], "text": "Да, отвечаю из приложения"})
    assert answer.status == 200
    body = answer.json()
    assert body["via"] == "app" and body["account_id"] == ACCOUNT_ID and body["notified"] == 0
    message = body["message"]
    assert message["author_id"] == ACCOUNT_ID and message["direction"] == "out"
    assert message["content"] == {"text": "Да, отвечаю из приложения"} and message["created"] == int(clock.now)
    listed = client.get(account_path(f"/chats/{chat['id']}/messages/", version="v3")).json()["messages"]
    assert listed[0] == message
    last = client.get(account_path(f"/chats/{chat['id']}", version="v2")).json()["last_message"]
    assert last["id"] == message["id"] and last["direction"] == "out" and last["author_id"] == ACCOUNT_ID
    # Whoever answered in the app had the chat open: it is read now.
    assert chat["id"] not in {c["id"] for c in client.get(account_path("/chats", version="v2"),
                                                          query={"unread_only": "true"}).json()["chats"]}
    stats = client.get("/_sandbox/stats").json()
    assert stats["app_messages"] == 1 and stats["sends"] == 0 and stats["customer_messages"] == 0
    assert stats["accounts"][str(ACCOUNT_ID)]["app_messages"] == 1
    assert "postSendMessage" not in stats["requests"]  # it never went through the API


def test_its_echo_is_shaped_exactly_like_an_api_sends(client, receiver):
    client.post("/messenger/v3/webhook", {"url": receiver.url})
    chat_id = u2i_chat(client)["id"]
    sent = client.post(account_path(f"/chats/{chat_id}/messages"), {"message": {"text": "через API"}, "type": "text"})
    typed = client.post("/_sandbox/app_messages", {"chat_id": chat_id, "text": "из приложения"})
    assert typed.json()["notified"] == 1
    echoes = {delivery["json"]["payload"]["value"]["id"]: delivery["json"] for delivery in receiver.wait_for(2)}
    api_echo, app_echo = echoes[sent.json()["id"]], echoes[typed.json()["message"]["id"]]
    for echo in (api_echo, app_echo):
        assert set(echo) == {"id", "version", "timestamp", "payload"}
        assert echo["payload"]["value"]["author_id"] == echo["payload"]["value"]["user_id"] == ACCOUNT_ID
    strip = lambda value: {k: v for k, v in value.items() if k not in ("id", "content")}  # noqa: E731
    assert strip(api_echo["payload"]["value"]) == strip(app_echo["payload"]["value"])


def test_other_types_silence_and_validation(client, receiver):
    client.post("/messenger/v3/webhook", {"url": receiver.url})
    chat_id = u2i_chat(client)["id"]
    image = client.post("/_sandbox/app_messages", {"chat_id": chat_id, "type": "image"}).json()["message"]
    assert image["type"] == "image" and "image" in image["content"] and image["direction"] == "out"
    quiet = client.post("/_sandbox/app_messages", {"chat_id": chat_id, "text": "тихо", "notify": False})
    assert quiet.json()["notified"] == 0
    assert client.get("/_sandbox/stats", query={"wait": "1"}).json()["notifications_dropped"] == 1
    assert [d["json"]["payload"]["value"]["type"] for d in receiver.received] == ["image"]
    assert client.post("/_sandbox/app_messages", {"text": "без чата"}).status == 400
    assert client.post("/_sandbox/app_messages", {"chat_id": "u2i-nope"}).status == 404
    other = client.post("/_sandbox/app_messages", {"chat_id": chat_id, "author_id": 5, "type": "sticker"})
    assert other.status == 400 and set(other.json()["error"]["fields"]) == {"author_id", "type"}


def test_in_a_given_account(make_app, receiver):
    app = make_app(account_count=2)
    second = ACCOUNT_ID + 1
    client = WsgiClient(app)
    client.login(client_id=f"client-{second}", client_secret=f"secret-{second}")
    client.post("/messenger/v3/webhook", {"url": receiver.url})
    chat_id = client.get(account_path("/chats", user_id=second, version="v2")).json()["chats"][0]["id"]
    answer = client.post("/_sandbox/app_messages", {"chat_id": chat_id, "text": "второй аккаунт"})
    assert answer.json()["account_id"] == second and answer.json()["message"]["author_id"] == second
    [echo] = receiver.wait_for(1)
    assert echo["json"]["payload"]["value"]["user_id"] == echo["json"]["payload"]["value"]["author_id"] == second
    assert client.post("/_sandbox/app_messages", {"chat_id": chat_id, "account_id": ACCOUNT_ID}).status == 404
