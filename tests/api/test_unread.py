"""GET /api/messages/unread/all: every unread incoming message, normalized as for n8n, oldest first."""
from __future__ import annotations

import pytest
from responses import matchers

from messenger.models import Message
from tests.api.conftest import CLIENT, ITEM, V1, V2, V3, chat_obj, message_obj

A, B = "u2i-aaa", "u2u-bbb"

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_unread_chats(avito):
    avito.get(f"{V2}/chats", json={"chats": [chat_obj(A), chat_obj(B, name="Борис", user=555, item=None)],
                                   "meta": {"has_more": False}},
              match=[matchers.query_param_matcher({"unread_only": "true"}, strict_match=False)])
    avito.get(f"{V3}/chats/{A}/messages/", json={"messages": [
        message_obj("a3", created=300, text="третье"),
        message_obj("a-out", created=250, direction="out", text="наш ответ"),
        message_obj("a2", created=200, type_="voice", content={"voice": {"voice_id": "v-1"}}),
        message_obj("a1", created=100, is_read=True, text="старое, прочитано"),
        message_obj("a0", created=50, text="never reached"),
    ], "meta": {"has_more": True}})
    avito.get(f"{V3}/chats/{B}/messages/", json=[message_obj("b1", created=150, text="из u2u")])
    avito.get(f"{V1}/getVoiceFiles", json={"voices_urls": {"v-1": "https://avito.st/voice/v-1.mp4"}})
    return avito


def test_collects_unread_incoming_messages_oldest_first_in_the_delivery_shape(api, two_unread_chats):
    response = api.get("/api/messages/unread/all")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3 and body["truncated"] is False
    assert [m["meta"]["external_message_id"] for m in body["messages"]] == ["b1", "a2", "a3"]
    b1, a2, a3 = body["messages"]
    assert b1["external_chat_id"] == B and b1["client_name"] == "Борис" and b1["meta"]["chat_type"] == "u2u"
    assert b1["text"] == "из u2u" and b1["external_user_id"] == str(CLIENT)
    assert a2["media"]["has_voice"] is True and a2["media"]["voice_url"] == "https://avito.st/voice/v-1.mp4"
    assert a3 == {
        "event": "message", "channel": "avito", "event_id": "avito-msg-a3", "external_user_id": str(CLIENT), "external_chat_id": A,
        "text": "третье", "timestamp": "1970-01-01T00:05:00+00:00", "client_name": "Guldan",
        "media": {"has_voice": False, "voice_url": None, "has_images": False, "images": [], "has_video": False,
                  "has_document": False},
        "meta": {"external_message_id": "a3", "ad_id": ITEM, "original_media_type": "text", "chat_type": "u2i",
                 "direction": "in", "source": "poll"},
    }
    assert Message.objects.filter(id__in=["a3", "a2", "a1", "b1", "a-out"]).count() == 5
    assert not any(call.request.url.endswith("/read") for call in two_unread_chats.calls)


def test_mark_read_marks_those_chats_read_afterwards(api, two_unread_chats):
    for chat in (A, B):
        two_unread_chats.post(f"{V1}/chats/{chat}/read", json={"ok": True})
    response = api.get("/api/messages/unread/all?mark_read=true")
    assert response.status_code == 200 and response.json()["count"] == 3
    read = [call.request.url for call in two_unread_chats.calls if call.request.url.endswith("/read")]
    assert read == [f"{V1}/chats/{A}/read", f"{V1}/chats/{B}/read"]


def test_mark_read_must_be_a_boolean(api, avito):
    response = api.get("/api/messages/unread/all?mark_read=sometimes")
    assert response.status_code == 400 and "mark_read" in response.json()["error"]["details"]


def test_no_unread_chats_is_an_empty_answer(api, avito):
    avito.get(f"{V2}/chats", json={"chats": [], "meta": {"has_more": False}})
    assert api.get("/api/messages/unread/all").json() == {"count": 0, "messages": [], "truncated": False}


def test_when_avitos_limit_is_reached_the_chats_read_so_far_are_answered(api, avito):
    avito.get(f"{V2}/chats", json={"chats": [chat_obj(A), chat_obj(B, item=None)], "meta": {"has_more": False}})
    avito.get(f"{V3}/chats/{A}/messages/", json=[message_obj("a1", created=100)])
    avito.get(f"{V3}/chats/{B}/messages/", status=429, json={"error": {"code": 429, "message": "Too Many Requests"}})
    avito.post(f"{V1}/chats/{A}/read", json={"ok": True})
    response = api.get("/api/messages/unread/all?mark_read=true")
    assert response.status_code == 200
    body = response.json()
    assert body["truncated"] is True and [m["event_id"] for m in body["messages"]] == ["avito-msg-a1"]
    read = [call.request.url for call in avito.calls if call.request.url.endswith("/read")]
    assert read == [f"{V1}/chats/{A}/read"]  # B stays unread for the next call


def test_limit_reached_on_the_first_chat_is_a_429(api, avito):
    avito.get(f"{V2}/chats", json={"chats": [chat_obj(A)], "meta": {"has_more": False}})
    avito.get(f"{V3}/chats/{A}/messages/", status=429, headers={"Retry-After": "0"},
              json={"error": {"code": 429, "message": "Too Many Requests"}})
    response = api.get("/api/messages/unread/all")
    assert response.status_code == 429 and response.json()["error"]["code"] == "rate_limited"


def test_collecting_stops_at_the_time_budget(avito):
    from messenger.services.unread import unread_messages_collect

    avito.get(f"{V2}/chats", json={"chats": [chat_obj(A), chat_obj(B, item=None)], "meta": {"has_more": False}})
    avito.get(f"{V3}/chats/{A}/messages/", json=[message_obj("a1", created=100)])
    avito.get(f"{V3}/chats/{B}/messages/", json=[message_obj("b1", created=50)])
    ticks = iter([0.0, 31.0])  # at the start, then before chat B: past the 20 s budget
    answer = unread_messages_collect(budget=20.0, clock=lambda: next(ticks))
    assert answer["truncated"] is True and [m["event_id"] for m in answer["messages"]] == ["avito-msg-a1"]
    assert not any(f"/chats/{B}/" in call.request.url for call in avito.calls)


def test_a_chat_whose_mark_read_fails_is_answered_and_the_walk_stops(api, avito):
    avito.get(f"{V2}/chats", json={"chats": [chat_obj(A), chat_obj(B, item=None)], "meta": {"has_more": False}})
    avito.get(f"{V3}/chats/{A}/messages/", json=[message_obj("a1", created=100)])
    avito.get(f"{V3}/chats/{B}/messages/", json=[message_obj("b1", created=50)])
    avito.post(f"{V1}/chats/{A}/read", status=429, json={"error": {"code": 429, "message": "Too Many Requests"}})
    body = api.get("/api/messages/unread/all?mark_read=true").json()
    assert body["truncated"] is True and [m["event_id"] for m in body["messages"]] == ["avito-msg-a1"]
    assert not any(f"/chats/{B}/" in call.request.url for call in avito.calls)
