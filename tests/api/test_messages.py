"""Messages through HTTP: list, send text and links, delete; what Avito received and what was stored."""
from __future__ import annotations

import json

import pytest
import requests
from urllib3.exceptions import MaxRetryError, NewConnectionError

from messenger.models import Message
from tests.api.conftest import CHAT, V1, V3, error_of, message_obj, sent_obj

SEND_URL = f"{V1}/chats/{CHAT}/messages"
LIST_URL = f"{V3}/chats/{CHAT}/messages/"

pytestmark = pytest.mark.django_db


def sends(avito) -> list:
    return [call for call in avito.calls if call.request.method == "POST" and call.request.url == SEND_URL]


def test_send_text_posts_avitos_body_once_and_stores_the_message(api, avito):
    avito.post(SEND_URL, json=sent_obj("m-1", "Здравствуйте"))
    response = api.post("/api/messages/send", {"chat_id": CHAT, "text": "Здравствуйте"}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True and body["chat_id"] == CHAT and body["message_id"] == "m-1"
    assert body["message"]["content"] == {"text": "Здравствуйте"}
    assert [json.loads(c.request.body) for c in sends(avito)] == [{"message": {"text": "Здравствуйте"}, "type": "text"}]
    row = Message.objects.get(id="m-1")
    assert (row.chat_id, row.direction, row.text) == (CHAT, "out", "Здравствуйте")


def test_text_of_exactly_1000_characters_is_sent(api, avito):
    avito.post(SEND_URL, json=sent_obj("m-2", "я" * 1000))
    response = api.post("/api/messages/send", {"chat_id": CHAT, "text": "я" * 1000}, format="json")
    assert response.status_code == 200


@pytest.mark.parametrize("body, fields", [
    ({"chat_id": CHAT, "text": "x" * 1001}, {"text"}),
    ({"text": "hi"}, {"chat_id"}),
    ({"chat_id": 12345, "text": 7}, {"chat_id", "text"}),
    ({"chat_id": "u2i-a/../../token", "text": "hi"}, {"chat_id"}),
    ({"chat_id": CHAT, "text": "   "}, {"text"}),
    ({"chat_id": CHAT, "text": "hi", "image_url": "https://example.com/a.png"}, {"image_url"}),
    ([{"chat_id": CHAT, "text": "hi"}], {"non_field_errors"}),
])
def test_bad_send_gets_400_naming_each_field_and_avito_is_not_called(api, avito, body, fields):
    response = api.post("/api/messages/send", body, format="json")
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "validation_error"
    assert set(error["details"]) == fields
    assert sends(avito) == []


def test_malformed_json_is_400_not_500(api, avito):
    response = api.post("/api/messages/send", data='{"chat_id": "u2i-a", "text": ', content_type="application/json")
    assert response.status_code == 400
    assert error_of(response)["code"] == "parse_error"


def test_unsupported_content_type_is_415_in_the_envelope(api, avito):
    response = api.post("/api/messages/send", data="chat_id=1", content_type="text/plain")
    assert response.status_code == 415
    assert error_of(response)["code"] == "unsupported_media_type"


def test_avitos_rejection_keeps_avitos_message(api, avito):
    avito.post(SEND_URL, status=400, json={"error": {"code": 400, "message": "text is too offensive",
                                                     "fields": {"text": "moderation"}}})
    response = api.post("/api/messages/send", {"chat_id": CHAT, "text": "hi"}, format="json")
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "upstream_rejected" and error["message"] == "text is too offensive"


def test_unknown_chat_is_404_with_avitos_message(api, avito):
    avito.post(SEND_URL, status=404, json={"error": {"code": 404, "message": "chat not found"}})
    response = api.post("/api/messages/send", {"chat_id": CHAT, "text": "hi"}, format="json")
    assert response.status_code == 404
    assert error_of(response) == {"code": "not_found", "message": "chat not found", "details": None}


def test_avito_unreachable_after_retries_is_502_and_nothing_is_stored(api, avito):
    avito.post(SEND_URL, body=requests.exceptions.ConnectionError(MaxRetryError(None, SEND_URL, NewConnectionError(
        None, "Failed to establish a new connection: [Errno 111] Connection refused"))))
    response = api.post("/api/messages/send", {"chat_id": CHAT, "text": "hi"}, format="json")
    assert response.status_code == 502
    error = error_of(response)
    assert error["code"] == "upstream_error" and error["message"] == "Could not reach Avito: ConnectionError."
    assert Message.objects.count() == 0


def test_avito_failing_a_send_ambiguously_is_504_outcome_unknown_and_it_is_not_resent(api, avito, settings):
    settings.CONNECTION_TIMEOUT = 0.2  # the settle window, really waited here
    avito.post(SEND_URL, status=503, json={"error": {"code": 503, "message": "Service temporarily unavailable"}})
    avito.get(LIST_URL, json={"messages": [], "meta": {"has_more": False}})  # not in the chat (yet)
    response = api.post("/api/messages/send", {"chat_id": CHAT, "text": "hi"}, format="json")
    assert response.status_code == 504
    error = error_of(response)
    assert error["code"] == "upstream_timeout" and "may or may not have been delivered" in error["message"]
    assert error["details"]["outcome"] == "unknown" and error["details"]["chat_id"] == CHAT
    assert "Check the chat" in error["details"]["advice"]
    assert sum(1 for call in avito.calls if call.request.method == "POST" and call.request.url == SEND_URL) == 1
    assert Message.objects.count() == 0


def test_avito_timing_out_is_504(api, avito):
    avito.post(SEND_URL, body=requests.exceptions.ConnectTimeout("connect timed out"))
    response = api.post("/api/messages/send", {"chat_id": CHAT, "text": "hi"}, format="json")
    assert response.status_code == 504
    assert error_of(response)["code"] == "upstream_timeout"


def test_send_link_sends_one_text_with_the_text_and_the_url(api, avito):
    avito.post(SEND_URL, json=sent_obj("m-3", "Каталог:\nhttps://example.com/c?a=1"))
    response = api.post("/api/messages/send/link",
                        {"chat_id": CHAT, "url": "https://example.com/c?a=1", "text": "Каталог:"}, format="json")
    assert response.status_code == 200 and response.json()["message_id"] == "m-3"
    assert json.loads(sends(avito)[0].request.body) == {
        "message": {"text": "Каталог:\nhttps://example.com/c?a=1"}, "type": "text"}


def test_send_link_without_text_sends_the_url_alone(api, avito):
    avito.post(SEND_URL, json=sent_obj("m-4", "https://example.com/"))
    response = api.post("/api/messages/send/link", {"chat_id": CHAT, "url": "https://example.com/"}, format="json")
    assert response.status_code == 200
    assert json.loads(sends(avito)[0].request.body)["message"]["text"] == "https://example.com/"


@pytest.mark.parametrize("body, field", [
    ({"chat_id": CHAT, "url": "javascript:alert(1)"}, "url"),
    ({"chat_id": CHAT, "url": "ftp://example.com/file"}, "url"),
    ({"chat_id": CHAT, "url": "example.com"}, "url"),
    ({"chat_id": CHAT, "url": "https://example.com/", "text": "x" * 990}, "text"),
])
def test_bad_link_is_refused_before_avito(api, avito, body, field):
    response = api.post("/api/messages/send/link", body, format="json")
    assert response.status_code == 400
    assert field in error_of(response)["details"]
    assert sends(avito) == []


@pytest.mark.parametrize("avito_body", [
    [message_obj("a", created=20), message_obj("b", created=10, direction="out")],
    {"messages": [message_obj("a", created=20), message_obj("b", created=10, direction="out")],
     "meta": {"has_more": False}},
])
def test_list_messages_accepts_a_bare_array_or_an_object_and_stores_them(api, avito, avito_body):
    avito.get(LIST_URL, json=avito_body)
    response = api.get(f"/api/chats/{CHAT}/messages?limit=50&offset=0")
    assert response.status_code == 200
    body = response.json()
    assert [m["id"] for m in body["messages"]] == ["a", "b"]
    assert body["meta"] == {"has_more": False}
    assert avito.calls[-1].request.params == {"limit": "50", "offset": "0"}
    assert dict(Message.objects.values_list("id", "direction")) == {"a": "in", "b": "out"}


@pytest.mark.parametrize("query, field", [("limit=0", "limit"), ("limit=101", "limit"), ("offset=1001", "offset"),
                                          ("offset=-1", "offset"), ("limit=ten", "limit")])
def test_list_messages_checks_avitos_limits_first(api, avito, query, field):
    response = api.get(f"/api/chats/{CHAT}/messages?{query}")
    assert response.status_code == 400
    assert set(error_of(response)["details"]) == {field}
    assert not any("/messages/" in call.request.url for call in avito.calls)


def test_delete_message_posts_to_avito_and_marks_the_stored_message_deleted(api, avito):
    avito.post(SEND_URL, json=sent_obj("m-5", "oops"))
    api.post("/api/messages/send", {"chat_id": CHAT, "text": "oops"}, format="json")
    avito.post(f"{SEND_URL}/m-5", json={})
    response = api.delete(f"/api/chats/{CHAT}/messages/m-5")
    assert response.status_code == 200 and response.json() == {"ok": True}
    assert Message.objects.get(id="m-5").type == "deleted"


def test_late_delete_keeps_avitos_refusal(api, avito):
    avito.post(f"{SEND_URL}/m-6", status=400, json={"error": {"code": 400, "message": "message is too old"}})
    response = api.delete(f"/api/chats/{CHAT}/messages/m-6")
    assert response.status_code == 400 and error_of(response)["message"] == "message is too old"


def test_a_path_that_is_no_avito_id_is_a_json_404(api, avito):
    response = api.get("/api/chats/bad%2Fid/messages")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_wrong_method_is_405_in_the_envelope(api, avito):
    response = api.get("/api/messages/send")
    assert response.status_code == 405
    assert error_of(response)["code"] == "method_not_allowed"
