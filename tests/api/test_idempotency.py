"""Idempotency-Key on sends: replay, conflict, in flight, failures not kept, 24 h expiry."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from messenger.models import IdempotencyRecord
from tests.api.conftest import CHAT, PNG, V1, V3, error_of, sent_obj

SEND_URL = f"{V1}/chats/{CHAT}/messages"
BODY = {"chat_id": CHAT, "text": "hello"}

pytestmark = pytest.mark.django_db


def sends(avito, url: str = SEND_URL) -> int:
    return sum(1 for call in avito.calls if call.request.method == "POST" and call.request.url == url)


def send(api, body=BODY, key="key-1", path="/api/messages/send"):
    return api.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_same_key_same_body_replays_the_first_answer_without_sending(api, avito):
    avito.post(SEND_URL, json=sent_obj("m-1"))
    first = send(api)
    again = send(api, body={"text": "hello", "chat_id": CHAT})  # same body, other key order
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first
    assert sends(avito) == 1


def test_same_key_other_body_is_409(api, avito):
    avito.post(SEND_URL, json=sent_obj("m-1"))
    send(api)
    response = send(api, body={"chat_id": CHAT, "text": "другой текст"})
    assert response.status_code == 409 and error_of(response)["code"] == "idempotency_conflict"
    assert sends(avito) == 1


def test_a_twin_arriving_while_the_first_is_sending_gets_409(api, avito):
    twin = {}

    def avito_send(request):
        twin["response"] = send(api)  # arrives while the first request waits for Avito
        return 200, {}, '{"id": "m-1", "created": 1, "direction": "out", "type": "text", "content": {"text": "hello"}}'

    avito.add_callback("POST", SEND_URL, callback=avito_send, content_type="application/json")
    first = send(api)
    assert first.status_code == 200
    assert twin["response"].status_code == 409
    assert "in progress" in error_of(twin["response"])["message"]
    assert sends(avito) == 1


def test_failed_send_is_not_kept_so_the_same_key_can_retry(api, avito):
    avito.post(SEND_URL, status=400, json={"error": {"code": 400, "message": "Validation error"}})
    assert send(api).status_code == 400
    assert IdempotencyRecord.objects.count() == 0
    avito.replace("POST", SEND_URL, json=sent_obj("m-2"))
    retry = send(api)
    assert retry.status_code == 200 and "Idempotent-Replayed" not in retry
    assert sends(avito) == 2


def test_upstream_failure_before_avito_took_the_send_is_not_kept_either(api, avito):
    avito.post(SEND_URL, status=429, json={"error": {"code": 429, "message": "Too Many Requests"}},
               headers={"Retry-After": "600"})
    assert send(api).status_code == 429
    assert IdempotencyRecord.objects.count() == 0


HISTORY = f"{V3}/chats/{CHAT}/messages/"


def chat_history(*messages) -> dict:
    return {"json": {"messages": list(messages), "meta": {"has_more": False}}}


@pytest.fixture
def unknown_outcome(api, avito, settings):
    """A first send with key-1 that Avito answered 500 and that did not show up in the chat: 504."""
    settings.CONNECTION_TIMEOUT = 0.2  # the settle window, really waited here
    avito.post(SEND_URL, status=500, json={"error": {"code": 500, "message": "boom"}})
    avito.get(HISTORY, **chat_history())
    response = send(api)
    assert response.status_code == 504
    error = error_of(response)
    assert error["code"] == "upstream_timeout" and error["details"]["outcome"] == "unknown"
    return response


def test_an_unknown_outcome_is_not_kept_as_the_answer(unknown_outcome):
    [row] = IdempotencyRecord.objects.all()
    assert row.response_body is None
    assert row.unsettled == {"chat_id": CHAT, "kind": "text", "text": "hello", "since": row.unsettled["since"]}


def test_a_retry_after_an_unknown_outcome_answers_with_the_message_that_landed(api, avito, unknown_outcome):
    avito.replace("GET", HISTORY, **chat_history(sent_obj("m-late") | {"created": 2**31 - 1}))
    retry = send(api)
    assert retry.status_code == 200 and retry["Idempotent-Replayed"] == "true"
    assert retry.json()["message_id"] == "m-late"
    assert sends(avito) == 1
    again = send(api)  # settled for good: replayed from the store
    assert again.json() == retry.json()
    assert IdempotencyRecord.objects.get().unsettled is None


def test_a_retry_after_an_unknown_outcome_that_did_not_land_sends_once(api, avito, unknown_outcome):
    avito.replace("POST", SEND_URL, json=sent_obj("m-2"))
    retry = send(api)
    assert retry.status_code == 200 and "Idempotent-Replayed" not in retry
    assert retry.json()["message_id"] == "m-2"
    assert sends(avito) == 2
    assert send(api)["Idempotent-Replayed"] == "true" and sends(avito) == 2


def test_a_retry_while_the_chat_cannot_be_read_is_504_again_and_sends_nothing(api, avito, unknown_outcome):
    avito.replace("GET", HISTORY, status=503, json={"error": {"code": 503, "message": "unavailable"}})
    retry = send(api)
    assert retry.status_code == 504 and error_of(retry)["details"]["outcome"] == "unknown"
    assert sends(avito) == 1
    row = IdempotencyRecord.objects.get()
    assert row.status_code == 504 and row.unsettled is not None  # the next retry looks again


def test_keys_older_than_24_hours_are_ignored_and_pruned(api, avito):
    avito.post(SEND_URL, json=sent_obj("m-1"))
    send(api)
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=25))
    again = send(api)
    assert again.status_code == 200 and "Idempotent-Replayed" not in again
    assert sends(avito) == 2
    assert IdempotencyRecord.objects.filter(created_at__lt=timezone.now() - timedelta(hours=24)).count() == 0


def test_a_key_left_in_flight_by_a_dead_process_is_taken_over_after_a_while(api, avito):
    avito.post(SEND_URL, json=sent_obj("m-1"))
    send(api)
    IdempotencyRecord.objects.update(status_code=None, response_body=None,
                                     created_at=timezone.now() - timedelta(minutes=11))
    again = send(api)
    assert again.status_code == 200 and "Idempotent-Replayed" not in again
    assert sends(avito) == 2


def test_keys_belong_to_one_endpoint(api, avito):
    avito.post(SEND_URL, json=sent_obj("m-1"))
    send(api)
    link = send(api, body={"chat_id": CHAT, "url": "https://example.com/"}, path="/api/messages/send/link")
    assert link.status_code == 200 and "Idempotent-Replayed" not in link
    assert sends(avito) == 2


def test_multipart_replays_for_the_same_file_and_conflicts_for_another(api, avito):
    avito.post(f"{V1}/uploadImages", json={"1.abc": {"32x32": "https://img/1"}})
    avito.post(f"{V1}/chats/{CHAT}/messages/image", json={"id": "i-1", "type": "image", "direction": "out"})

    def post(content: bytes):
        form = {"chat_id": CHAT, "file": SimpleUploadedFile("a.png", content, content_type="image/png")}
        return api.post("/api/messages/send/image", form, format="multipart", HTTP_IDEMPOTENCY_KEY="img-key")

    assert post(PNG).status_code == 200
    replay = post(PNG)
    assert replay.status_code == 200 and replay["Idempotent-Replayed"] == "true"
    assert post(PNG + b"other").status_code == 409
    assert sends(avito, f"{V1}/uploadImages") == 1


@pytest.mark.parametrize("key", ["", "k" * 256, "ключ"])
def test_unusable_key_is_400(api, avito, key):
    response = send(api, key=key)
    assert response.status_code == 400
    assert "Idempotency-Key" in error_of(response)["details"]
    assert sends(avito) == 0


def test_a_twin_of_a_retry_that_is_settling_an_old_unknown_outcome_gets_409(api, avito, unknown_outcome):
    """Even when the first send is older than the in-flight takeover time, one settler at a time."""
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(minutes=30))
    twin = {}

    def history(request):
        twin["response"] = send(api)  # arrives while the retry is looking in the chat
        return 200, {}, '{"messages": [], "meta": {"has_more": false}}'

    avito.replace("POST", SEND_URL, json=sent_obj("m-2"))
    avito.remove("GET", HISTORY)
    avito.add_callback("GET", HISTORY, callback=history, content_type="application/json")
    assert send(api).status_code == 200
    assert twin["response"].status_code == 409
    assert sends(avito) == 2  # the first (unknown) and the retry's one send


def test_a_key_left_in_flight_by_a_dead_request_whose_send_landed_replays_the_message_and_sends_nothing(api, avito):
    """The request died after Avito took its send (a killed process): the row, in flight, says what to
    look for; once it is stale, a retry finds the message in the chat and answers with it."""
    avito.post(SEND_URL, json=sent_obj("m-1"))
    send(api)
    row = IdempotencyRecord.objects.get()
    assert row.unsettled is None  # settled rows keep no check
    died_at = timezone.now() - timedelta(minutes=11)
    IdempotencyRecord.objects.update(status_code=None, response_body=None, created_at=died_at,
                                     unsettled={"chat_id": CHAT, "kind": "text", "text": "hello",
                                                "since": died_at.timestamp()})
    avito.get(HISTORY, **chat_history(sent_obj("m-1") | {"created": int(died_at.timestamp()) + 1}))
    retry = send(api)
    assert retry.status_code == 200 and retry["Idempotent-Replayed"] == "true"
    assert retry.json()["message_id"] == "m-1"
    assert sends(avito) == 1


def test_an_in_flight_key_keeps_what_its_send_will_leave_in_the_chat(api, avito):
    seen = {}

    def avito_send(request):
        seen["row"] = IdempotencyRecord.objects.values("status_code", "unsettled").get()
        return 200, {}, '{"id": "m-1", "created": 1, "direction": "out", "type": "text", "content": {"text": "hello"}}'

    avito.add_callback("POST", SEND_URL, callback=avito_send, content_type="application/json")
    assert send(api).status_code == 200
    assert seen["row"]["status_code"] is None
    assert {k: v for k, v in seen["row"]["unsettled"].items() if k != "since"} == {
        "chat_id": CHAT, "kind": "text", "text": "hello"}
    assert IdempotencyRecord.objects.get().unsettled is None
