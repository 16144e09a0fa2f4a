"""Messages v3, sending text and images, deleting, and voice files."""

import pytest

from sandbox_testkit import ACCOUNT_ID, WsgiClient, account_path

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def first_chat(client, chat_types="u2i") -> dict:
    return client.get(account_path("/chats", version="v2"), query={"chat_types": chat_types}).json()["chats"][0]


def messages(client, chat_id, **query) -> list[dict]:
    answer = client.get(account_path(f"/chats/{chat_id}/messages/", version="v3"), query=query)
    assert answer.status == 200, answer.body
    return answer.json()["messages"]


def send(client, chat_id, body):
    return client.post(account_path(f"/chats/{chat_id}/messages"), body)


def test_messages_are_newest_first_and_shaped_like_avito(client):
    chat = first_chat(client)
    listed = messages(client, chat["id"])
    created = [message["created"] for message in listed]
    assert created == sorted(created, reverse=True)
    assert listed[0]["id"] == chat["last_message"]["id"]
    for message in listed:
        assert {"id", "author_id", "created", "direction", "type", "content", "is_read", "read"} <= set(message)
        assert message["direction"] == ("out" if message["author_id"] == ACCOUNT_ID else "in")


def test_messages_path_works_without_trailing_slash_and_pages(client):
    chat_id = first_chat(client, "u2i,u2u")["id"]
    everything = messages(client, chat_id)
    no_slash = client.get(account_path(f"/chats/{chat_id}/messages", version="v3"))
    assert no_slash.json()["messages"] == everything
    page = client.get(account_path(f"/chats/{chat_id}/messages/", version="v3"), query={"limit": 1, "offset": 1})
    assert page.json() == {"messages": everything[1:2], "meta": {"has_more": len(everything) > 2}}
    assert client.get(account_path(f"/chats/{chat_id}/messages/", version="v3"), query={"limit": 101}).status == 400
    assert client.get(account_path("/chats/u2i-nope/messages/", version="v3")).status == 404


def test_messages_wrapper_can_be_a_bare_array(make_app):
    client = WsgiClient(make_app(messages_wrapper="array"))
    client.login()
    body = client.get(account_path(f"/chats/{first_chat(client)['id']}/messages/", version="v3")).json()
    assert isinstance(body, list) and body


def test_send_text_stores_the_message_and_updates_the_chat(client, clock):
    chat = first_chat(client)
    clock.advance(60)
    answer = send(client, chat["id"], {"message": {"text": "Да, ещё продаётся"}, "type": "text"})
    assert answer.status == 200
    sent = answer.json()
    assert sent["direction"] == "out" and sent["type"] == "text" and sent["content"] == {"text": "Да, ещё продаётся"}
    assert sent["created"] == int(clock.now) and len(sent["id"]) == 32
    newest = messages(client, chat["id"])[0]
    assert newest["id"] == sent["id"] and newest["author_id"] == ACCOUNT_ID
    again = client.get(account_path(f"/chats/{chat['id']}", version="v2")).json()
    assert again["updated"] == sent["created"] and again["last_message"]["id"] == sent["id"]
    assert client.get("/_sandbox/stats").json()["sends"] == 1


@pytest.mark.parametrize("body, field", [
    ({"message": {"text": "hi"}, "type": "image"}, "type"),
    ({"message": {"text": "hi"}}, "type"),
    ({"message": {}, "type": "text"}, "message.text"),
    ({"message": {"text": "я" * 1001}, "type": "text"}, "message.text"),
])
def test_send_text_validation(client, body, field):
    answer = send(client, first_chat(client)["id"], body)
    assert answer.status == 400 and field in answer.json()["error"]["fields"]


def test_send_text_takes_exactly_1000_characters_and_rejects_bad_json(client):
    chat_id = first_chat(client)["id"]
    assert send(client, chat_id, {"message": {"text": "я" * 1000}, "type": "text"}).status == 200
    broken = client.request("POST", account_path(f"/chats/{chat_id}/messages"), body=b"{not json",
                            content_type="application/json")
    assert broken.status == 400 and broken.json()["error"]["code"] == 400
    assert send(client, "u2i-nope", {"message": {"text": "x"}, "type": "text"}).status == 404


def test_upload_then_send_image(client):
    upload = client.request("POST", account_path("/uploadImages"), files={"uploadfile[]": ("a.png", PNG, "image/png")})
    assert upload.status == 200
    [(image_id, sizes)] = upload.json().items()
    assert image_id.split(".")[0].isdigit() and image_id.split(".")[1].isalnum()
    assert set(sizes) == {"1280x960", "140x105", "32x32"}
    served = client.get(sizes["1280x960"].removeprefix("http://sandbox.test"))
    assert served.status == 200 and served.body == PNG and served.headers["content-type"] == "image/png"
    chat_id = first_chat(client)["id"]
    sent = client.post(account_path(f"/chats/{chat_id}/messages/image"), {"image_id": image_id}).json()
    assert sent["type"] == "image" and sent["author_id"] == ACCOUNT_ID
    assert sent["content"]["image"]["sizes"] == sizes
    unknown = client.post(account_path(f"/chats/{chat_id}/messages/image"), {"image_id": "1.abc"})
    assert unknown.status == 400 and "image_id" in unknown.json()["error"]["fields"]


@pytest.mark.parametrize("files", [
    {"uploadfile[]": ("a.txt", b"just text, not a picture", "text/plain")},
    {"file": ("a.png", PNG, "image/png")},
    [("uploadfile[]", ("a.png", PNG, "image/png")), ("uploadfile[]", ("b.png", PNG, "image/png"))],
    {"uploadfile[]": ("big.png", PNG + b"\x00" * (24 * 1024 * 1024), "image/png")},
])
def test_upload_refuses_anything_but_one_image_up_to_24_mb(client, files):
    answer = client.request("POST", account_path("/uploadImages"), files=files)
    assert answer.status == 400 and "uploadfile[]" in answer.json()["error"]["fields"]


def test_delete_own_message_within_an_hour(client, clock):
    chat_id = first_chat(client)["id"]
    sent = send(client, chat_id, {"message": {"text": "опечатка"}, "type": "text"}).json()
    clock.advance(3599)
    path = account_path(f"/chats/{chat_id}/messages/{sent['id']}")
    assert client.post(path).status == 200 and client.post(path).json() == {}
    deleted = messages(client, chat_id)[0]
    assert deleted["id"] == sent["id"] and deleted["type"] == "deleted" and deleted["content"] == {}


def test_delete_refuses_late_foreign_and_unknown_messages(client, clock):
    chat_id = first_chat(client)["id"]
    sent = send(client, chat_id, {"message": {"text": "поздно"}, "type": "text"}).json()
    clock.advance(3601)
    late = client.post(account_path(f"/chats/{chat_id}/messages/{sent['id']}"))
    assert late.status == 400 and "1 hour" in late.json()["error"]["message"]
    theirs = next(m for m in messages(client, chat_id) if m["direction"] == "in")
    foreign = client.post(account_path(f"/chats/{chat_id}/messages/{theirs['id']}"))
    assert foreign.status == 400 and "own" in foreign.json()["error"]["message"]
    assert client.post(account_path(f"/chats/{chat_id}/messages/{'0' * 32}")).status == 404


def test_voice_files_by_comma_list_or_repeats(client, app, clock):
    voice_ids = sorted(app.state.voices)
    made = client.post("/_sandbox/messages", {"chat_id": first_chat(client)["id"], "type": "voice"}).json()
    voice_ids.append(made["message"]["content"]["voice"]["voice_id"])
    path = account_path("/getVoiceFiles")
    by_comma = client.get(path, query={"voice_ids": ",".join(voice_ids + ["unknown"])}).json()["voices_urls"]
    assert set(by_comma) == set(voice_ids)
    by_repeat = client.get(path, query={"voice_ids": voice_ids}).json()["voices_urls"]
    assert by_repeat == by_comma
    link = by_comma[voice_ids[-1]].removeprefix("http://sandbox.test")
    path_part, _, query = link.partition("?")
    played = client.get(path_part, query=dict([query.split("=")]))
    assert played.status == 200 and played.headers["content-type"] == "audio/mp4"
    clock.advance(3601)
    assert client.get(path_part, query=dict([query.split("=")])).status == 403
    assert client.get(path).status == 400
