"""From Avito's notification to n8n: stored chat and message, client name, voice URL, own messages.

Each test POSTs to /webhook/avito with Celery eager, so the event is processed and delivered
in the test; Avito and n8n are mocked at the HTTP seam.
"""
from __future__ import annotations

import json

import pytest
import responses
from responses import matchers

from messenger.models import Chat, Message
from tests.conftest import USER_ID
from tests.webhooks.avito_payloads import (CHAT_ID, CUSTOMER_ID, ITEM_ID, N8N_URL, VOICE_URL, avito_chat,
                                           chat_url, notification, post_notification)
from webhooks.models import Delivery, DeliveryStatus, EventStatus, IncomingEvent
from webhooks.processing import events_drain

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("n8n_settings", "eager")]


@pytest.fixture
def deliver(client, django_capture_on_commit_callbacks):
    def post(body):
        with django_capture_on_commit_callbacks(execute=True):
            response = post_notification(client, body)
        assert response.status_code == 200
        return response
    return post


@pytest.fixture
def process_when_due(django_capture_on_commit_callbacks):
    """Run the event's next processing attempt at the time it is due (as the sweep would)."""
    def run():
        event = IncomingEvent.objects.get()
        with django_capture_on_commit_callbacks(execute=True):
            events_drain(clock=lambda: event.next_attempt_at)
    return run


def n8n_bodies(mock) -> list[dict]:
    return [json.loads(call.request.body) for call in mock.calls if call.request.url == N8N_URL]


def test_a_customer_message_reaches_n8n_with_the_chats_client_name(avito, deliver):
    avito.get(chat_url(), json=avito_chat(name="Guldan"))
    avito.post(N8N_URL, json={"ok": True})
    body = notification(content={"text": "Здравствуйте, ещё продаёте?"}, message_id="m-1")
    deliver(body)

    [sent] = n8n_bodies(avito)
    assert sent == {
        "event": "message", "channel": "avito", "event_id": "avito-msg-m-1", "external_user_id": str(CUSTOMER_ID),
        "external_chat_id": CHAT_ID, "text": "Здравствуйте, ещё продаёте?",
        "timestamp": "2024-06-10T06:13:20+00:00", "client_name": "Guldan",
        "media": {"has_voice": False, "voice_url": None, "has_images": False, "images": [], "has_video": False,
                  "has_document": False},
        "meta": {"external_message_id": "m-1", "ad_id": ITEM_ID, "original_media_type": "text", "chat_type": "u2i",
                 "direction": "in", "source": "webhook"},
    }
    assert IncomingEvent.objects.get().status == EventStatus.PROCESSED
    assert Delivery.objects.get().status == DeliveryStatus.DELIVERED


def test_the_chat_is_fetched_from_avito_once_then_read_from_the_database(avito, deliver):
    avito.get(chat_url(), json=avito_chat(name="Guldan"))
    avito.post(N8N_URL, json={"ok": True})
    for text in ("Первое", "Второе", "Третье"):
        deliver(notification(content={"text": text}))

    chat_calls = [call for call in avito.calls if call.request.url == chat_url()]
    assert len(chat_calls) == 1
    assert [body["client_name"] for body in n8n_bodies(avito)] == ["Guldan"] * 3


def test_the_admin_sees_the_chat_and_message_current(avito, deliver):
    avito.get(chat_url(), json=avito_chat())
    avito.post(N8N_URL, json={"ok": True})
    deliver(notification(content={"text": "Новое сообщение"}, message_id="m-new", created=1718000500))

    chat = Chat.objects.get(id=CHAT_ID)
    assert (chat.client_name, chat.client_user_id, chat.item_id) == ("Guldan", CUSTOMER_ID, ITEM_ID)
    assert (chat.is_unread, chat.last_message_text) == (True, "Новое сообщение")
    assert chat.last_message_at.timestamp() == 1718000500
    message = Message.objects.get(id="m-new")
    assert (message.chat_id, message.direction, message.type, message.text, message.author_id) == (
        CHAT_ID, "in", "text", "Новое сообщение", CUSTOMER_ID)


def test_an_older_message_arriving_late_does_not_become_the_last_one(avito, deliver):
    avito.get(chat_url(), json=avito_chat())
    avito.post(N8N_URL, json={"ok": True})
    deliver(notification(content={"text": "новее"}, created=1718000500))
    deliver(notification(content={"text": "старее"}, created=1718000100))
    assert Chat.objects.get(id=CHAT_ID).last_message_text == "новее"
    assert Message.objects.count() == 2


def test_a_voice_message_carries_the_url_from_get_voice_files(avito, deliver):
    avito.get(chat_url(), json=avito_chat())
    avito.get(VOICE_URL, match=[matchers.query_param_matcher({"voice_ids": "v-77"})],
              json={"voices_urls": {"v-77": "https://avito.st/voice/v-77.mp4"}})
    avito.post(N8N_URL, json={"ok": True})
    deliver(notification(type="voice", content={"voice": {"voice_id": "v-77"}}))

    [sent] = n8n_bodies(avito)
    assert sent["media"]["has_voice"] is True
    assert sent["media"]["voice_url"] == "https://avito.st/voice/v-77.mp4"
    assert sent["meta"]["original_media_type"] == "voice"


@pytest.mark.parametrize("bad_voice_id", ["../v", "v/77", "", 77])
def test_a_malformed_voice_id_degrades_the_voice_not_the_message(avito, deliver, bad_voice_id):
    """Issue 21 item 6: the media id only fails its own look-up; the message still reaches n8n."""
    avito.get(chat_url(), json=avito_chat())
    avito.post(N8N_URL, json={"ok": True})
    deliver(notification(type="voice", content={"voice": {"voice_id": bad_voice_id}}))

    [sent] = n8n_bodies(avito)
    assert (sent["media"]["has_voice"], sent["media"]["voice_url"]) == (True, None)
    assert sent["meta"]["media_error"] == "voice_id is not an Avito id"
    assert not [call for call in avito.calls if VOICE_URL in call.request.url]  # never looked up
    assert IncomingEvent.objects.get().status == EventStatus.PROCESSED
    assert Message.objects.filter(type="voice").count() == 1


def test_a_good_voice_id_has_no_media_error(avito, deliver):
    avito.get(chat_url(), json=avito_chat())
    avito.get(VOICE_URL, json={"voices_urls": {"v-1": "https://avito.st/voice/v-1.mp4"}})
    avito.post(N8N_URL, json={"ok": True})
    deliver(notification(type="voice", content={"voice": {"voice_id": "v-1"}}))
    [sent] = n8n_bodies(avito)
    assert "media_error" not in sent["meta"]


def test_the_accounts_own_message_is_stored_as_outgoing_and_not_delivered(avito, deliver):
    deliver(notification(author_id=USER_ID, content={"text": "Да, продаём"}, message_id="own-1"))

    assert not avito.calls  # neither Avito (no name needed) nor n8n
    assert Message.objects.get(id="own-1").direction == "out"
    assert Chat.objects.get(id=CHAT_ID).last_message_text == "Да, продаём"
    assert not Delivery.objects.exists()
    event = IncomingEvent.objects.get()
    assert event.status == EventStatus.PROCESSED
    assert "not delivered" in event.note


def test_forward_own_messages_delivers_them_as_outgoing(avito, deliver, settings):
    settings.FORWARD_OWN_MESSAGES = True
    avito.get(chat_url(), json=avito_chat())
    avito.post(N8N_URL, json={"ok": True})
    deliver(notification(author_id=USER_ID, content={"text": "Да, продаём"}))

    [sent] = n8n_bodies(avito)
    assert sent["meta"]["direction"] == "out"
    assert sent["external_user_id"] == str(CUSTOMER_ID)  # still the customer: the other side of the chat


def test_a_chat_avito_does_not_know_is_delivered_without_a_name(avito, deliver):
    avito.get(chat_url(), status=404, json={"error": {"code": 404, "message": "Not found"}})
    avito.post(N8N_URL, json={"ok": True})
    deliver(notification())

    [sent] = n8n_bodies(avito)
    assert sent["client_name"] is None
    assert "Not found" in IncomingEvent.objects.get().note


def test_avito_down_holds_the_event_for_a_retry_then_delivers_it(avito, deliver, settings, process_when_due):
    settings.MAX_RETRIES = 0
    avito.get(chat_url(), status=503, json={"error": {"code": 503, "message": "Service temporarily unavailable"}})
    deliver(notification(message_id="m-held"))

    event = IncomingEvent.objects.get()
    assert (event.status, event.attempts) == (EventStatus.ERROR, 1)
    assert "Service temporarily unavailable" in event.last_error
    assert not Delivery.objects.exists()

    avito.replace(responses.GET, chat_url(), json=avito_chat(name="Guldan"))
    avito.post(N8N_URL, json={"ok": True})
    process_when_due()

    assert IncomingEvent.objects.get().status == EventStatus.PROCESSED
    assert [body["client_name"] for body in n8n_bodies(avito)] == ["Guldan"]


def test_after_a_few_transient_failures_the_message_goes_out_without_the_name(avito, deliver, settings,
                                                                              process_when_due):
    settings.MAX_RETRIES = 0
    avito.get(chat_url(), status=503)
    avito.post(N8N_URL, json={"ok": True})
    deliver(notification())
    for _ in range(2):
        process_when_due()

    event = IncomingEvent.objects.get()
    assert (event.status, event.attempts) == (EventStatus.PROCESSED, 3)
    assert [body["client_name"] for body in n8n_bodies(avito)] == [None]


def test_a_crash_keeps_the_event_and_its_error_until_attempts_run_out(avito, deliver, monkeypatch, process_when_due):
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("webhooks.message_events.message_rows_upsert", broken)
    avito.get(chat_url(), json=avito_chat())
    deliver(notification())
    for _ in range(5):
        process_when_due()

    event = IncomingEvent.objects.get()
    assert (event.status, event.attempts) == (EventStatus.FAILED, 3)  # EVENT_MAX_ATTEMPTS
    assert event.last_error == "RuntimeError: disk full"
    assert not Message.objects.exists()  # nothing half-stored


def test_one_broken_event_does_not_hold_back_the_rest_of_its_batch(avito, client, monkeypatch,
                                                                  django_capture_on_commit_callbacks):
    """The batch is stored in one transaction; when it fails, each event is stored on its own."""
    from messenger import storage

    def breaks_on_one(messages):
        if any(message["id"] == "m-bad" for message, _, _ in messages):
            raise RuntimeError("disk full")
        return storage.message_rows_upsert(messages)

    monkeypatch.setattr("webhooks.message_events.message_rows_upsert", breaks_on_one)
    monkeypatch.setattr("core.work.wakeups.wake_now", lambda *args, **kwargs: None)  # the test drains
    avito.get(chat_url(), json=avito_chat())
    avito.post(N8N_URL, json={"ok": True})
    for message_id in ("m-1", "m-bad", "m-2"):
        assert post_notification(client, notification(message_id=message_id)).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        assert events_drain() == 3  # one batch

    statuses = dict(IncomingEvent.objects.values_list("message_id", "status"))
    assert statuses == {"m-1": EventStatus.PROCESSED, "m-bad": EventStatus.ERROR, "m-2": EventStatus.PROCESSED}
    assert sorted(body["meta"]["external_message_id"] for body in n8n_bodies(avito)) == ["m-1", "m-2"]
    assert set(Message.objects.values_list("id", flat=True)) == {"m-1", "m-2"}


def test_processing_twice_stores_once_and_delivers_once(avito, deliver, process_when_due):
    avito.get(chat_url(), json=avito_chat())
    avito.post(N8N_URL, json={"ok": True})
    deliver(notification())
    event = IncomingEvent.objects.get()
    IncomingEvent.objects.filter(pk=event.pk).update(status=EventStatus.PENDING)  # as if its wake-up came twice
    process_when_due()

    assert IncomingEvent.objects.get().status == EventStatus.PROCESSED
    assert (Message.objects.count(), Delivery.objects.count(), len(n8n_bodies(avito))) == (1, 1, 1)


def test_an_event_someone_else_holds_is_left_alone(avito):
    IncomingEvent.objects.create(raw=notification(), event_type="message", message_id="m", chat_id=CHAT_ID,
                                 status=EventStatus.PENDING, next_attempt_at="2020-01-01T00:00:00Z",
                                 lease_owner="another-worker:1", lease_expires="2100-01-01T00:00:00Z")
    assert events_drain() == 0
    assert not avito.calls


def test_a_run_that_lost_its_event_meanwhile_keeps_nothing_and_posts_nothing(avito, client, monkeypatch):
    """The Avito look-up took so long that the sweep gave the event to another worker: that one
    stores and delivers it; this run's rows are rolled back with its unfenced outcome."""
    from core.work import wakeups

    monkeypatch.setattr(wakeups, "wake_now", lambda *args, **kwargs: None)  # no drain: the test runs it
    assert post_notification(client, notification(message_id="m-slow")).status_code == 200
    event = IncomingEvent.objects.get()

    def slow_chat(request):
        # Meanwhile the sweep took the event back and another worker leased it.
        IncomingEvent.objects.filter(pk=event.pk).update(lease_owner="new-holder:1")
        return (200, {}, json.dumps(avito_chat()))
    avito.add_callback(responses.GET, chat_url(), callback=slow_chat)

    assert events_drain() == 1
    assert IncomingEvent.objects.get().lease_owner == "new-holder:1"
    assert not Message.objects.filter(id="m-slow").exists()
    assert not Delivery.objects.exists()
    assert not n8n_bodies(avito)


def test_a_long_drain_hands_over_to_a_fresh_one(avito, client, monkeypatch, django_capture_on_commit_callbacks):
    """A drain stops after DRAIN_SECONDS (well inside Celery's time limit) and wakes the next."""
    from webhooks import processing

    woken = []
    monkeypatch.setattr("core.work.wakeups.wake_now", lambda task, *args, **kwargs: woken.append((task, args)))
    avito.get(chat_url(), json=avito_chat())
    avito.post(N8N_URL, json={"ok": True})
    for index in range(3):
        assert post_notification(client, notification(message_id=f"m-{index}")).status_code == 200
    woken.clear()
    monkeypatch.setattr(processing, "CLAIM_BATCH", 1)
    ticks = iter([0.0, 1.0, processing.DRAIN_SECONDS + 1])
    with django_capture_on_commit_callbacks(execute=True):
        assert events_drain(fan_out=False, timer=lambda: next(ticks)) == 1  # one batch, then time is up
    assert woken == [("webhooks.tasks.events_drain", (False,))]
    assert IncomingEvent.objects.filter(status=EventStatus.PENDING).count() == 2
