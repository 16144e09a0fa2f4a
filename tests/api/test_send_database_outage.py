"""A send while our database is down (issue 20): never a 500, never an answer that invites a resend.

- Down before Avito is called: 503 `dependency_unavailable`, and Avito got nothing.
- Down once Avito has accepted the send: 200 with Avito's message, the same answer as always;
  the message (and the Idempotency-Key's answer) is kept on disk and stored once the database
  is back, by the replay. A retry with the same key then gets that answer replayed, and a
  retry of a 503 with the same key sends once. No retry gets a 409 once the database is back.
"""
from __future__ import annotations

import json
from datetime import datetime

import pytest

from core.pending_writes import pending_writes_replay, pending_writes_waiting
from messenger.avito import get_client
from messenger.models import Chat, IdempotencyRecord, Message
from messenger.services.staff_replies import staff_reply_send
from tests.api.conftest import CHAT, V1, error_of, sent_obj
from tests.database_outage import database_outage

SEND_URL = f"{V1}/chats/{CHAT}/messages"
BODY = {"chat_id": CHAT, "text": "hello"}

pytestmark = pytest.mark.django_db(transaction=True)  # a kept write closes the broken connection


@pytest.fixture(autouse=True)
def kept_writes(settings, tmp_path, monkeypatch):
    """Kept writes in the test's own folder, replayed only when the test says (no background thread)."""
    settings.PENDING_WRITES_DIR = tmp_path / "pending-writes"
    started = []
    monkeypatch.setattr("core.pending_writes.REPLAYER.start", lambda: started.append(1))
    return started


@pytest.fixture
def outage():
    with database_outage() as fault:
        yield fault


def sends(avito) -> int:
    return sum(1 for call in avito.calls if call.request.method == "POST" and call.request.url == SEND_URL)


def send(api, key: str | None = None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return api.post("/api/messages/send", BODY, format="json", **headers)


def avito_accepts_then_database_fails(avito, outage, message_id: str = "m-1"):
    """Avito stores the message; our database goes down while its answer is on the way back."""
    def accept(request):
        outage.down()
        return 200, {}, json.dumps(sent_obj(message_id))

    avito.add_callback("POST", SEND_URL, callback=accept, content_type="application/json")


def test_database_down_before_avito_is_503_and_nothing_is_sent(api, avito, outage):
    avito.post(SEND_URL, json=sent_obj("m-1"))
    outage.down()
    response = send(api)
    assert response.status_code == 503
    assert error_of(response)["code"] == "dependency_unavailable"
    assert sends(avito) == 0


def test_database_down_before_avito_with_a_key_is_503_and_the_retry_sends_once(api, avito, outage):
    avito.post(SEND_URL, json=sent_obj("m-1"))
    outage.down()
    first = send(api, key="k-503")
    assert first.status_code == 503 and error_of(first)["code"] == "dependency_unavailable"
    outage.up()
    retry = send(api, key="k-503")
    assert retry.status_code == 200 and "Idempotent-Replayed" not in retry
    assert sends(avito) == 1


def test_database_down_after_the_key_was_taken_but_before_avito_frees_the_key_when_it_is_back(
        api, avito, outage, kept_writes):
    """The key's row is written, then the database fails at the rate limiter: 503, nothing sent; the
    row cannot be removed then, so its removal is kept, and the retry after the outage sends once."""
    avito.post(SEND_URL, json=sent_obj("m-1"))
    get_client().transport.token_store.get()  # the token is at hand: the send goes straight to the limiter
    outage.trip_on = lambda sql: "ratelimit" in sql.lower()
    first = send(api, key="k-limiter")
    assert first.status_code == 503 and error_of(first)["code"] == "dependency_unavailable"
    assert sends(avito) == 0
    assert len(pending_writes_waiting()) == 1 and kept_writes
    outage.up()
    assert IdempotencyRecord.objects.get().status_code is None  # in flight, until the kept write is done
    retry = send(api, key="k-limiter")  # does the kept writes first: the key is free
    assert retry.status_code == 200 and "Idempotent-Replayed" not in retry
    assert sends(avito) == 1
    assert pending_writes_waiting() == []


def test_database_down_after_avito_accepted_is_200_with_avitos_message_stored_later(api, avito, outage, kept_writes):
    avito_accepts_then_database_fails(avito, outage)
    response = send(api)
    assert response.status_code == 200
    assert response.json() == {"ok": True, "chat_id": CHAT, "message_id": "m-1",
                               "message": {"author_id": 1234567, **sent_obj("m-1")}}
    assert len(pending_writes_waiting()) == 1 and kept_writes  # kept, and a replay thread asked for
    outage.up()
    assert not Message.objects.exists()
    assert pending_writes_replay() == 1
    stored = Message.objects.get()
    assert (stored.id, stored.chat_id, stored.direction, stored.text) == ("m-1", CHAT, "out", "hello")
    assert Chat.objects.filter(id=CHAT).exists()
    assert pending_writes_waiting() == [] and pending_writes_replay() == 0
    assert sends(avito) == 1


def test_a_kept_write_done_twice_stores_the_message_once(api, avito, outage):
    """A replayer killed between the write and removing its file does it again: an upsert, so harmless."""
    avito_accepts_then_database_fails(avito, outage)
    send(api)
    outage.up()
    [kept] = pending_writes_waiting()
    copy = kept.read_bytes()
    pending_writes_replay()
    kept.write_bytes(copy)
    assert pending_writes_replay() == 1
    assert Message.objects.count() == 1


def test_with_a_key_the_answer_settles_when_the_database_is_back_and_a_retry_replays_it(api, avito, outage):
    avito_accepts_then_database_fails(avito, outage)
    first = send(api, key="k-after")
    assert first.status_code == 200 and first.json()["message_id"] == "m-1"
    assert len(pending_writes_waiting()) == 2  # the message and the key's answer
    during = send(api, key="k-after")  # the database is still down: nothing can be read, nothing is sent
    assert during.status_code == 503
    outage.up()
    retry = send(api, key="k-after")
    assert retry.status_code == 200 and retry["Idempotent-Replayed"] == "true"
    assert retry.json() == first.json()
    assert sends(avito) == 1
    row = IdempotencyRecord.objects.get()
    assert row.status_code == 200 and row.response_body == first.json()
    assert Message.objects.filter(id="m-1").exists()


def test_a_normal_send_keeps_nothing_on_disk(api, avito, settings):
    avito.post(SEND_URL, json=sent_obj("m-1"))
    assert send(api, key="k-normal").status_code == 200
    assert send(api).status_code == 200
    assert not settings.PENDING_WRITES_DIR.exists() or pending_writes_waiting() == []
    assert Message.objects.filter(id="m-1").exists()


def test_a_kept_outcome_never_overwrites_a_later_request_on_the_same_key(api, avito, outage):
    """The kept write is fenced on its request's start: a row taken over since is left alone."""
    avito_accepts_then_database_fails(avito, outage)
    send(api, key="k-fence")
    outage.up()
    IdempotencyRecord.objects.update(created_at=IdempotencyRecord.objects.get().created_at.replace(year=2030))
    pending_writes_replay()
    assert IdempotencyRecord.objects.get().status_code is None


def test_a_staff_reply_that_reached_avito_is_sent_once_and_settles_when_the_database_is_back(avito, outage):
    avito_accepts_then_database_fails(avito, outage)
    outcome = staff_reply_send(chat_id=CHAT, staff_user_id=1, text="hello", form_key="form-1")
    assert outcome.message_ids == ["m-1"]
    outage.up()
    again = staff_reply_send(chat_id=CHAT, staff_user_id=1, text="hello", form_key="form-1")  # resubmitted
    assert again.replayed and not again.sent and again.message_ids == ["m-1"]
    assert sends(avito) == 1
    assert Message.objects.filter(id="m-1").exists()


def test_a_key_whose_insert_lost_its_answer_is_freed_when_the_database_is_back(api, avito, outage):
    """The database fails at the key's INSERT, which may have committed with its answer lost (a restart
    at COMMIT): the row would be in flight for ever. The removal is kept, fenced on the row's time."""
    avito.post(SEND_URL, json=sent_obj("m-1"))
    outage.trip_on = lambda sql: sql.startswith("INSERT") and "idempotencyrecord" in sql.lower()
    first = send(api, key="k-lost")
    assert first.status_code == 503 and sends(avito) == 0
    [kept] = pending_writes_waiting()
    outage.up()
    payload = json.loads(kept.read_bytes())["payload"]
    assert payload["forget"] is True
    IdempotencyRecord.objects.create(scope=payload["scope"], key="k-lost", body_hash="x")  # as if it had committed
    IdempotencyRecord.objects.update(created_at=datetime.fromisoformat(payload["created_at"]))
    retry = send(api, key="k-lost")
    assert retry.status_code == 200 and "Idempotent-Replayed" not in retry
    assert sends(avito) == 1
