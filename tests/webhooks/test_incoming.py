"""POST /webhook/avito: authenticate the path, store the raw event, queue it, answer 200 at once."""
from __future__ import annotations

import json

import pytest

from webhooks.models import EventStatus, IncomingEvent
from tests.webhooks.avito_payloads import CHAT_ID, notification, post_notification

pytestmark = pytest.mark.django_db


def receive(client, body, capture, path="/webhook/avito"):
    with capture() as callbacks:
        response = post_notification(client, body, path)
    return response, callbacks


def test_a_message_is_stored_raw_and_queued_after_commit(client, django_capture_on_commit_callbacks):
    body = notification(type="text", content={"text": "Здравствуйте"})
    response, callbacks = receive(client, body, django_capture_on_commit_callbacks)

    assert response.status_code == 200
    assert response.json() == {"ok": True}
    event = IncomingEvent.objects.get()
    assert event.raw == body
    assert (event.status, event.event_type, event.chat_id) == (EventStatus.PENDING, "message", CHAT_ID)
    assert event.message_id == body["payload"]["value"]["id"]
    assert event.avito_event_id == body["id"]
    assert len(callbacks) == 1  # the wake-up of the worker, sent only once the row is committed


def test_avitos_empty_probe_gets_200_and_nothing_is_stored(client, django_capture_on_commit_callbacks):
    response, callbacks = receive(client, b"{}", django_capture_on_commit_callbacks)
    assert (response.status_code, response.json()) == (200, {"ok": True})
    assert not IncomingEvent.objects.exists()
    assert not callbacks


@pytest.mark.parametrize("body", [
    {"id": "e1", "version": "v3.0.0", "timestamp": 1, "payload": {"type": "chat_archived", "value": {"id": "c"}}},
    {"id": "e2", "payload": None},
    {"something": "else"},
])
def test_unknown_event_types_get_200_are_kept_and_not_processed(client, django_capture_on_commit_callbacks, body):
    response, callbacks = receive(client, body, django_capture_on_commit_callbacks)
    assert response.status_code == 200
    event = IncomingEvent.objects.get()
    assert event.status == EventStatus.IGNORED
    assert event.raw == body
    assert not callbacks


def test_a_message_without_an_id_is_kept_as_ignored(client, django_capture_on_commit_callbacks):
    body = notification()
    del body["payload"]["value"]["id"]
    response, callbacks = receive(client, body, django_capture_on_commit_callbacks)
    assert response.status_code == 200
    assert IncomingEvent.objects.get().status == EventStatus.IGNORED
    assert not callbacks


@pytest.mark.parametrize("body", [b"{not json", b"", b"\xff\xfe", b"[1, 2]", b'"text"', b"[" * 100000])
def test_malformed_json_gets_400_in_the_error_envelope(client, body):
    response = post_notification(client, body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"
    assert not IncomingEvent.objects.exists()


def test_a_huge_body_is_refused_before_it_is_read(client):
    response = post_notification(client, json.dumps({"pad": "x" * (1024 * 1024 + 1)}))
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_nul_characters_are_stored_without_them(client):
    response = post_notification(client, notification(content={"text": "a\u0000b"}))
    assert response.status_code == 200
    assert IncomingEvent.objects.get().raw["payload"]["value"]["content"]["text"] == "ab"


def test_get_is_not_allowed_and_says_so_in_json(client):
    response = client.get("/webhook/avito")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_a_repeat_of_the_same_message_is_acknowledged_and_dropped(client, django_capture_on_commit_callbacks):
    body = notification()
    first, first_callbacks = receive(client, body, django_capture_on_commit_callbacks)
    again = dict(body, id="another-notification-id")  # Avito's retry may carry a new envelope id
    second, second_callbacks = receive(client, again, django_capture_on_commit_callbacks)

    assert (first.status_code, second.status_code) == (200, 200)
    event = IncomingEvent.objects.get()
    assert event.repeats == 1
    assert (len(first_callbacks), len(second_callbacks)) == (1, 0)


class TestPathSecret:
    @pytest.fixture(autouse=True)
    def secret(self, settings):
        settings.AVITO_WEBHOOK_SECRET = "s3cret-path"

    def test_the_secret_path_works(self, client):
        assert post_notification(client, notification(), "/webhook/avito/s3cret-path").status_code == 200
        assert IncomingEvent.objects.count() == 1

    @pytest.mark.parametrize("path", ["/webhook/avito", "/webhook/avito/wrong", "/webhook/avito/s3cret-pat",
                                      "/webhook/avito/s3cret-path-and-more", "/webhook/avito/S3CRET-PATH"])
    def test_every_other_path_is_404_like_an_unknown_path(self, client, path):
        response = post_notification(client, notification(), path)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
        assert not IncomingEvent.objects.exists()

    def test_the_wrong_secret_is_404_even_for_get(self, client):
        assert client.get("/webhook/avito/wrong").status_code == 404


def test_without_a_secret_a_path_with_one_is_404(client):
    assert post_notification(client, notification(), "/webhook/avito/anything").status_code == 404


def test_no_api_key_is_needed(client, settings):
    settings.API_KEY = "an-api-key"
    assert post_notification(client, notification()).status_code == 200


def test_csrf_is_not_required(settings):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert post_notification(strict, notification()).status_code == 200


def test_a_broker_that_is_down_does_not_fail_avito(client, monkeypatch, django_capture_on_commit_callbacks):
    from kombu.exceptions import OperationalError

    from celery import Celery

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(Celery, "send_task", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        response = post_notification(client, notification())
    assert response.status_code == 200
    assert IncomingEvent.objects.get().status == EventStatus.PENDING  # the sweep will find it


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_the_insert_stands_alone_and_a_repeat_is_dropped(client, monkeypatch):
    """As in production (no test transaction around the request): no savepoint, same outcome."""
    from core.work import wakeups

    woken = []
    monkeypatch.setattr(wakeups, "wake_now", lambda task, *args, **kwargs: woken.append((task, args)))
    body = notification()
    assert post_notification(client, body).status_code == 200
    assert post_notification(client, body).status_code == 200

    event = IncomingEvent.objects.get()
    assert (event.status, event.repeats) == (EventStatus.PENDING, 1)
    assert woken == [("webhooks.tasks.events_drain", ())]  # on commit, once



def test_the_body_is_stored_as_avito_sent_it_even_with_a_byte_order_mark(client):
    body = notification(message_id="m-bom")
    data = "\ufeff".encode() + json.dumps(body, ensure_ascii=False).encode()
    assert client.post("/webhook/avito", data=data, content_type="application/json").status_code == 200
    assert IncomingEvent.objects.get().raw == body
