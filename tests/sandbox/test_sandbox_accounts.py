"""Several accounts: each its own credentials, tokens, chats, webhooks, rate window and stats; revoke/restore."""

import pytest

from sandbox.accounts import AccountSpec
from sandbox_testkit import ACCOUNT_ID, WebhookReceiver, WsgiClient, account_path

A, B, C = ACCOUNT_ID, ACCOUNT_ID + 1, ACCOUNT_ID + 2  # --accounts 3 with --user-id ACCOUNT_ID
ALL_TYPES = {"chat_types": "u2i,u2u,a2u"}


@pytest.fixture
def three(make_app):
    return make_app(account_count=3)


def login(app, user_id: int) -> WsgiClient:
    client = WsgiClient(app)
    client.login(client_id=f"client-{user_id}", client_secret=f"secret-{user_id}")
    return client


def chats(client, user_id: int, **query) -> list[dict]:
    answer = client.get(account_path("/chats", user_id=user_id, version="v2"), query={**ALL_TYPES, **query})
    assert answer.status == 200, answer.body
    return answer.json()["chats"]


def send(client, user_id: int, chat_id: str, text: str = "Добрый день"):
    return client.post(account_path(f"/chats/{chat_id}/messages", user_id=user_id),
                       {"message": {"text": text}, "type": "text"})


def test_each_account_has_its_own_deterministic_chats(three, make_app):
    a, b = login(three, A), login(three, B)
    a_chats, b_chats = chats(a, A), chats(b, B)
    assert len(a_chats) == len(b_chats) == 30
    assert not {chat["id"] for chat in a_chats} & {chat["id"] for chat in b_chats}
    # The first account's data is what one-account use gives; every account's is repeatable.
    single = WsgiClient(make_app())
    single.login()
    assert chats(single, A) == a_chats
    again = make_app(account_count=3)
    assert chats(login(again, B), B) == b_chats
    # A chat of A's is not in B's account.
    assert b.get(account_path(f"/chats/{a_chats[0]['id']}", user_id=B, version="v2")).status == 404


def test_a_token_is_for_the_account_whose_credentials_fetched_it(three):
    a = login(three, A)
    assert a.get(account_path("/chats", user_id=A, version="v2")).status == 200
    foreign = a.get(account_path("/chats", user_id=B, version="v2"))
    assert foreign.status == 403 and foreign.json()["error"]["code"] == 403
    client = WsgiClient(three)
    form = {"grant_type": "client_credentials"}
    wrong = client.request("POST", "/token", auth=False,
                           data={**form, "client_id": f"client-{B}", "client_secret": "x"})
    assert wrong.status == 400 and wrong.json()["error"] == "invalid_client"
    # With several accounts no account takes any credentials.
    unknown = client.request("POST", "/token", auth=False, data={**form, "client_id": "id", "client_secret": "secret"})
    assert unknown.status == 400 and unknown.json()["error"] == "invalid_client"


def test_revoked_credentials_fail_for_that_account_only_until_restored(three):
    a, b, c = login(three, A), login(three, B), login(three, C)
    answer = b.post(f"/_sandbox/accounts/{B}/revoke")
    assert answer.status == 200 and answer.json()["account"]["revoked"] is True
    refused = b.get(account_path("/chats", user_id=B, version="v2"))
    assert refused.status == 401 and set(refused.json()["error"]) == {"code", "message"}
    token = WsgiClient(three).request("POST", "/token", auth=False, data={
        "grant_type": "client_credentials", "client_id": f"client-{B}", "client_secret": f"secret-{B}"})
    assert token.status == 400 and token.json()["error"] == "invalid_client"
    assert a.get(account_path("/chats", user_id=A, version="v2")).status == 200
    assert c.get(account_path("/chats", user_id=C, version="v2")).status == 200
    assert b.post(f"/_sandbox/accounts/{B}/restore").json()["account"]["revoked"] is False
    assert b.get(account_path("/chats", user_id=B, version="v2")).status == 200
    assert login(three, B).get(account_path("/chats", user_id=B, version="v2")).status == 200
    # The same through the general hook.
    assert b.post(f"/_sandbox/accounts/{B}", {"revoked": True}).json()["account"]["revoked"] is True
    assert b.get(account_path("/chats", user_id=B, version="v2")).status == 401
    assert b.post("/_sandbox/accounts/999/revoke").status == 404


def test_each_account_has_its_own_rate_window(make_app):
    app = make_app(account_count=3, rate=(2, 60))
    a, b = login(app, A), login(app, B)
    storm = [a.get(account_path("/chats", user_id=A, version="v2")).status for _ in range(4)]
    assert storm == [200, 200, 429, 429]
    calm = b.get(account_path("/chats", user_id=B, version="v2"))
    assert calm.status == 200 and calm.headers["x-ratelimit-remaining"] == "1"
    stats = a.get("/_sandbox/stats").json()
    assert stats["rate_limited"] == 2
    assert stats["accounts"][str(A)]["rate_limited"] == 2 and stats["accounts"][str(B)]["rate_limited"] == 0
    # One account's limit can be changed alone.
    assert a.post(f"/_sandbox/accounts/{B}", {"rate": "1/60"}).json()["account"]["rate"] == "1/60"
    assert [b.get(account_path("/chats", user_id=B, version="v2")).status for _ in range(2)] == [200, 429]
    assert login(app, C).get(account_path("/chats", user_id=C, version="v2")).headers["x-ratelimit-limit"] == "2"


def test_notifications_go_to_the_accounts_own_subscribers_with_its_user_id(three, receiver):
    a, b = login(three, A), login(three, B)
    assert a.post("/messenger/v3/webhook", {"url": receiver.url + "/a"}).status == 200
    assert b.post("/messenger/v3/webhook", {"url": receiver.url + "/b"}).status == 200
    listed = a.post("/messenger/v1/subscriptions").json()["subscriptions"]
    assert listed == [{"url": receiver.url + "/a", "version": "3"}]
    a_chat, b_chat = chats(a, A, chat_types="u2i")[0], chats(b, B, chat_types="u2i")[0]
    assert a.post("/_sandbox/messages", {"chat_id": a_chat["id"], "text": "для A"}).json()["notified"] == 1
    assert a.post("/_sandbox/messages", {"chat_id": b_chat["id"], "text": "для B"}).json()["notified"] == 1
    sent = send(b, B, b_chat["id"], "ответ B")
    deliveries = receiver.wait_for(3)
    by_path = {}
    for delivery in deliveries:
        by_path.setdefault(delivery["path"], []).append(delivery["json"]["payload"]["value"])
    assert [v["content"] for v in by_path["/avito-hook/a"]] == [{"text": "для A"}]
    assert by_path["/avito-hook/a"][0]["user_id"] == A and by_path["/avito-hook/a"][0]["chat_id"] == a_chat["id"]
    # Deliveries run in parallel: their order is not fixed.
    b_values = {v["content"]["text"]: v for v in by_path["/avito-hook/b"]}
    assert set(b_values) == {"для B", "ответ B"} and len(by_path["/avito-hook/b"]) == 2
    assert {v["user_id"] for v in b_values.values()} == {B}
    assert b_values["ответ B"]["author_id"] == B and b_values["ответ B"]["id"] == sent.json()["id"]
    stats = a.get("/_sandbox/stats", query={"wait": "1"}).json()
    assert stats["accounts"][str(A)]["notifications_sent"] == 1 and stats["accounts"][str(B)]["notifications_sent"] == 2
    log = a.get("/_sandbox/notifications").json()["notifications"]
    assert {(entry["url"].rsplit("/", 1)[1], entry["account_id"]) for entry in log} == {("a", A), ("b", B)}


def test_a_customer_message_can_be_pinned_to_an_account(three):
    a = login(three, A)
    b_chat = chats(login(three, B), B)[0]
    wrong = a.post("/_sandbox/messages", {"chat_id": b_chat["id"], "account_id": A})
    assert wrong.status == 404
    assert a.post("/_sandbox/messages", {"chat_id": b_chat["id"], "account_id": B}).status == 200
    created = a.post("/_sandbox/chats", {"account_id": C, "text": "Здравствуйте!"})
    assert created.status == 200
    assert chats(login(three, C), C)[0]["id"] == created.json()["chat"]["id"]
    assert a.post("/_sandbox/chats", {"account_id": 1}).status == 404


def test_stats_per_account_and_totals(three):
    a, b = login(three, A), login(three, B)
    chat_id = chats(b, B)[0]["id"]
    send(b, B, chat_id)
    send(b, B, chat_id)
    chats(a, A)
    stats = a.get("/_sandbox/stats").json()
    # The totals count /token calls too; an account's count starts once its token is used.
    assert stats["sends"] == 2 and stats["requests_total"] == 6 and stats["tokens_issued"] == 2
    b_stats = stats["accounts"][str(B)]
    assert b_stats["sends"] == 2 and b_stats["requests_total"] == 3 and b_stats["tokens_issued"] == 1
    assert b_stats["requests"] == {"getChatsV2": 1, "postSendMessage": 2}
    assert b_stats["chats"] == 30 and b_stats["messages"] > 30
    assert stats["accounts"][str(A)]["requests"] == {"getChatsV2": 1}
    assert stats["accounts"][str(C)]["requests_total"] == 0
    assert set(stats["accounts"]) == {str(A), str(B), str(C)}


def test_an_account_can_be_added_at_run_time_even_to_a_single_account_sandbox(app, clock):
    client = WsgiClient(app)
    added = client.post("/_sandbox/accounts", {"user_id": 555, "client_id": "shop2", "client_secret": "pw",
                                               "name": "Второй магазин", "chats": 2})
    assert added.status == 200
    assert added.json()["account"] == {
        "user_id": 555, "name": "Второй магазин", "client_id": "shop2", "client_secret": "pw", "revoked": False,
        "rate": None, "email": "account555@example.com", "phone": "79000000555",
        "profile_url": added.json()["account"]["profile_url"], "primary": False}
    client.login(client_id="shop2", client_secret="pw")
    assert len(chats(client, 555)) == 2
    assert client.get(account_path("/chats", version="v2")).status == 403
    # The first account still takes any other credentials, as before.
    primary = WsgiClient(app)
    primary.login(client_id="anything", client_secret="else")
    assert primary.get(account_path("/chats", version="v2")).status == 200
    generated = client.post("/_sandbox/accounts", {}).json()["account"]
    assert generated["user_id"] == ACCOUNT_ID + 1 and generated["client_id"] == f"client-{ACCOUNT_ID + 1}"
    assert client.post("/_sandbox/accounts", {"user_id": 555}).status == 409
    assert client.post("/_sandbox/accounts", {"user_id": 556, "client_id": "shop2", "client_secret": "x"}).status == 409
    bad = client.post("/_sandbox/accounts", {"user_id": "x", "client_id": "only", "rate": "lots", "extra": 1})
    assert bad.status == 400
    assert set(bad.json()["error"]["fields"]) == {"user_id", "client_secret", "rate", "extra"}
    listed = client.get("/_sandbox/accounts").json()["accounts"]
    assert [(entry["user_id"], entry["primary"]) for entry in listed] == [(ACCOUNT_ID, True), (555, False),
                                                                          (ACCOUNT_ID + 1, False)]


def test_reset_brings_back_the_start_up_accounts(three):
    client = WsgiClient(three)
    client.post("/_sandbox/accounts", {"user_id": 42})
    client.post(f"/_sandbox/accounts/{B}/revoke")
    client.post("/_sandbox/reset")
    listed = client.get("/_sandbox/accounts").json()["accounts"]
    assert [(entry["user_id"], entry["revoked"]) for entry in listed] == [(A, False), (B, False), (C, False)]


def test_fail_next_can_target_one_account(three):
    a, b = login(three, A), login(three, B)
    a.post("/_sandbox/config", {"fail_next": {"operation": "postSendMessage", "status": 502, "account_id": A}})
    assert send(b, B, chats(b, B)[0]["id"]).status == 200
    assert send(a, A, chats(a, A)[0]["id"]).status == 502
    assert a.post("/_sandbox/config", {"fail_next": {"operation": "*", "account_id": "A"}}).status == 400


def test_media_are_per_account_and_their_links_work(three):
    b = login(three, B)
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
    upload = b.request("POST", account_path("/uploadImages", user_id=B), files={"uploadfile[]": ("a.png", png)})
    image_id, sizes = next(iter(upload.json().items()))
    assert b.get(sizes["140x105"].removeprefix("http://sandbox.test")).body == png
    a = login(three, A)
    a_chat = chats(a, A)[0]["id"]
    foreign = a.post(account_path(f"/chats/{a_chat}/messages/image", user_id=A), {"image_id": image_id})
    assert foreign.status == 400  # B's upload is not A's image
    voice_ids = ",".join(three.accounts[B].state.voices)
    voices = b.get(account_path("/getVoiceFiles", user_id=B), query={"voice_ids": voice_ids}).json()["voices_urls"]
    assert voices and all(b.get(url.removeprefix("http://sandbox.test").split("?")[0],
                                query={"expires": url.split("expires=")[1]}).status == 200 for url in voices.values())


def test_blacklist_is_per_account(three):
    b = login(three, B)
    b.post(account_path("/blacklist", user_id=B, version="v2"), {"users": [{"user_id": 7}]})
    assert b.get("/_sandbox/blacklist").json() == {"users": []}
    assert b.get("/_sandbox/blacklist", query={"account_id": str(B)}).json() == {"users": [{"user_id": 7}]}


def test_listed_accounts_with_names(make_app):
    app = make_app(account_specs=[AccountSpec(11, "c11", "s11", "Лавка"), AccountSpec(12, "c12", "s12")])
    client = WsgiClient(app)
    client.login(client_id="c12", client_secret="s12")
    assert client.get("/messenger/v2/accounts/12/chats").status == 200
    names = [entry["name"] for entry in client.get("/_sandbox/accounts").json()["accounts"]]
    assert names[0] == "Лавка" and names[1]
    assert client.get("/_sandbox/config").json()["account_ids"] == [11, 12]


def test_a_second_receiver_gets_nothing_of_another_account(three, receiver):
    """The same URL subscribed by two accounts gets each account's messages, each with its own user_id."""
    other = WebhookReceiver()
    other.start()
    try:
        a, b = login(three, A), login(three, B)
        a.post("/messenger/v3/webhook", {"url": receiver.url})
        b.post("/messenger/v3/webhook", {"url": receiver.url})
        c = login(three, C)
        c.post("/messenger/v3/webhook", {"url": other.url})
        a.post("/_sandbox/messages", {"chat_id": chats(a, A)[0]["id"]})
        b.post("/_sandbox/messages", {"chat_id": chats(b, B)[0]["id"]})
        users = sorted(d["json"]["payload"]["value"]["user_id"] for d in receiver.wait_for(2))
        assert users == [A, B]
        a.get("/_sandbox/stats", query={"wait": "1"})
        assert other.received == []
    finally:
        other.stop()
