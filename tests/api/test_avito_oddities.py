"""Answers from Avito that no real account should produce, and that must not break the gateway.

A `created` far out of range, numbers where strings belong, a chat id that is not in
Avito's shape: the answer still arrives (odd values stored as unknown), a malformed chat
is skipped rather than blamed on the caller, and JSON constants (`NaN`) that are not
JSON at all are Avito's fault (502), never a 500.
"""
from __future__ import annotations

import json

import pytest

from messenger.models import Chat, Message
from messenger.normalizer import iso_time
from tests.api.conftest import CHAT, V1, V2, V3, chat_obj, error_of, message_obj

pytestmark = pytest.mark.django_db

ODD_CREATED = [10**20, -10**20, 2**63, "soon", None, True, 1e300]


@pytest.mark.parametrize("value", ODD_CREATED + [float("inf"), float("nan")])
def test_out_of_range_times_are_unknown_not_a_crash(value):
    assert iso_time(value) is None


def test_a_normal_time_is_kept():
    assert iso_time(1718000000) == "2024-06-10T06:13:20+00:00"


def test_the_message_list_survives_out_of_range_values(api, avito):
    messages = [message_obj(f"m{index}", created=1) for index in range(len(ODD_CREATED) + 1)]
    for message, created in zip(messages, ODD_CREATED):
        message["created"] = created
    messages[-1]["author_id"] = 10**30
    body = json.dumps({"messages": messages, "meta": {"has_more": False}}).replace('"created": 1,', '"created": 1e400,')
    avito.get(f"{V3}/chats/{CHAT}/messages/", body=body, content_type="application/json")

    response = api.get(f"/api/chats/{CHAT}/messages")

    assert response.status_code == 200, response.content[:300]
    assert len(response.json()["messages"]) == len(messages)
    assert Message.objects.count() == len(messages)
    assert set(Message.objects.values_list("created", flat=True)) == {None}
    assert Message.objects.get(id=messages[-1]["id"]).author_id is None


def test_a_chat_with_out_of_range_times_is_stored(api, avito):
    chat = {**chat_obj(), "created": 10**20, "updated": "x"}
    chat["last_message"]["created"] = -10**20
    avito.get(f"{V2}/chats/{CHAT}", json=chat)
    assert api.get(f"/api/chats/{CHAT}").status_code == 200
    stored = Chat.objects.get(id=CHAT)
    assert (stored.avito_created, stored.avito_updated, stored.last_message_at) == (None, None, None)


def test_avito_answering_nan_is_its_fault_not_a_crash(api, avito):
    avito.get(f"{V3}/chats/{CHAT}/messages/", body='{"messages": [{"id": "m1", "created": NaN}]}',
              content_type="application/json")
    response = api.get(f"/api/chats/{CHAT}/messages")
    assert response.status_code == 502
    assert error_of(response)["code"] == "upstream_error"


def test_unread_all_skips_a_chat_whose_id_avito_malformed(api, avito, caplog):
    bad = "u2i-bad/../../x"
    avito.get(f"{V2}/chats", json={"chats": [chat_obj(bad), chat_obj(CHAT)], "meta": {"has_more": False}})
    avito.get(f"{V3}/chats/{CHAT}/messages/", json=[message_obj("good-1", created=100)])
    avito.get(f"{V1}/getVoiceFiles", json={"voices_urls": {}})

    response = api.get("/api/messages/unread/all")

    assert response.status_code == 200, response.content
    assert [m["meta"]["external_message_id"] for m in response.json()["messages"]] == ["good-1"]
    assert not [c for c in avito.calls if "bad" in c.request.url]
    assert not Chat.objects.filter(id=bad).exists()
    assert any("u2i-bad" in record.getMessage() for record in caplog.records)


def test_unread_all_with_only_a_malformed_chat_is_empty_not_400(api, avito):
    avito.get(f"{V2}/chats", json={"chats": [chat_obj("u2i-" + "x" * 200)], "meta": {"has_more": False}})
    response = api.get("/api/messages/unread/all")
    assert response.status_code == 200, response.content
    assert response.json()["count"] == 0


def test_a_message_whose_id_avito_malformed_is_shown_but_not_stored(api, avito):
    long_id, bad_id = "m" * 300, "../m"
    avito.get(f"{V3}/chats/{CHAT}/messages/", json=[message_obj(long_id, created=1), message_obj(bad_id, created=2),
                                                    message_obj("ok-1", created=3)])
    response = api.get(f"/api/chats/{CHAT}/messages")
    assert response.status_code == 200
    assert [m["id"] for m in response.json()["messages"]] == [long_id, bad_id, "ok-1"]
    assert list(Message.objects.values_list("id", flat=True)) == ["ok-1"]
