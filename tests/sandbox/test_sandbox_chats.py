"""Chats v2: filters, Avito's limits, ordering, paging and single chats."""

import pytest

from sandbox_testkit import ACCOUNT_ID, account_path

CHATS = account_path("/chats", version="v2")


def chats(client, **query):
    answer = client.get(CHATS, query=query)
    assert answer.status == 200, answer.body
    return answer.json()


def test_default_is_u2i_chats_newest_first_with_meta(client):
    body = chats(client)
    assert body["chats"] and {chat["id"][:3] for chat in body["chats"]} == {"u2i"}
    updated = [chat["updated"] for chat in body["chats"]]
    assert updated == sorted(updated, reverse=True)
    assert body["meta"] == {"has_more": False}


def test_u2i_chat_has_item_context_users_and_last_message(client):
    chat = chats(client, limit=1)["chats"][0]
    assert set(chat) == {"id", "created", "updated", "context", "users", "last_message"}
    value = chat["context"]["value"]
    assert chat["context"]["type"] == "item"
    assert {"id", "title", "price_string", "status_id", "url", "user_id", "images"} <= set(value)
    assert value["url"].endswith(str(value["id"]))
    ids = {user["id"] for user in chat["users"]}
    assert ACCOUNT_ID in ids and len(ids) == 2
    for user in chat["users"]:
        assert user["public_user_profile"]["user_id"] == user["id"]
        assert set(user["public_user_profile"]["avatar"]["images"]) >= {"24x24", "256x256"}
    last = chat["last_message"]
    assert {"id", "author_id", "created", "direction", "type", "content"} == set(last)
    assert last["created"] == chat["updated"]


def test_chat_types_filter_takes_comma_lists_and_repeats(client):
    mixed = chats(client, chat_types="u2i,u2u,a2u")["chats"]
    assert {chat["id"][:3] for chat in mixed} == {"u2i", "u2u", "a2u"}
    repeated = chats(client, chat_types=["u2u", "a2u"])["chats"]
    assert {chat["id"][:3] for chat in repeated} == {"u2u", "a2u"}
    assert all("context" not in chat for chat in repeated)
    assert client.get(CHATS, query={"chat_types": "u2x"}).status == 400


def test_item_ids_filter_takes_comma_lists_and_repeats(client):
    all_chats = chats(client)["chats"]
    first, second = all_chats[0]["context"]["value"]["id"], all_chats[-1]["context"]["value"]["id"]
    wanted = {first, second}
    for query in ({"item_ids": f"{first},{second}"}, {"item_ids": [str(first), str(second)]}):
        found = chats(client, **query)["chats"]
        assert found and {chat["context"]["value"]["id"] for chat in found} == wanted
    assert chats(client, item_ids="1")["chats"] == []
    assert client.get(CHATS, query={"item_ids": "x"}).status == 400


def test_unread_only_and_read_marks(client):
    unread = chats(client, unread_only="true", chat_types="u2i,u2u,a2u")["chats"]
    assert unread
    chat_id = unread[0]["id"]
    assert client.post(account_path(f"/chats/{chat_id}/read")).json() == {"ok": True}
    still_unread = chats(client, unread_only="true", chat_types="u2i,u2u,a2u")["chats"]
    assert chat_id not in {chat["id"] for chat in still_unread}
    assert len(still_unread) == len(unread) - 1
    assert client.get(CHATS, query={"unread_only": "maybe"}).status == 400


def test_limit_offset_and_has_more(client):
    everything = chats(client, chat_types="u2i,u2u")["chats"]
    page = chats(client, chat_types="u2i,u2u", limit=5, offset=5)
    assert [chat["id"] for chat in page["chats"]] == [chat["id"] for chat in everything[5:10]]
    assert page["meta"]["has_more"] is True
    tail = chats(client, chat_types="u2i,u2u", limit=100, offset=len(everything) - 2)
    assert len(tail["chats"]) == 2 and tail["meta"]["has_more"] is False
    assert chats(client, offset=1000)["chats"] == []


@pytest.mark.parametrize("name, value", [("limit", 0), ("limit", 101), ("limit", "ten"),
                                         ("offset", -1), ("offset", 1001)])
def test_out_of_range_paging_is_a_validation_error(client, name, value):
    answer = client.get(CHATS, query={name: value})
    assert answer.status == 400
    error = answer.json()["error"]
    assert error["code"] == 400 and error["message"] == "Validation error" and name in error["fields"]


def test_single_chat_and_unknown_chat(client):
    listed = chats(client, limit=1)["chats"][0]
    single = client.get(account_path(f"/chats/{listed['id']}", version="v2"))
    assert single.status == 200 and single.json() == listed
    missing = client.get(account_path("/chats/u2i-nope", version="v2"))
    assert missing.status == 404 and missing.json()["error"]["code"] == 404


def test_every_bad_parameter_is_named_at_once(client):
    answer = client.get(CHATS, query={"limit": 101, "offset": 2000, "chat_types": "zzz", "unread_only": "perhaps"})
    assert answer.status == 400
    assert set(answer.json()["error"]["fields"]) == {"limit", "offset", "chat_types", "unread_only"}
