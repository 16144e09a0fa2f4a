"""Notifications no real Avito sends: malformed ids, broken JSON values, impossible numbers.

Each is answered in the JSON envelope (never a 500). One that is JSON but cannot be
processed is stored and marked `unprocessable` (staff see it in the admin), is never
woken, and the sweep never retries it; nothing from it reaches Avito or n8n.
"""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.webhooks.avito_payloads import notification, post_notification
from webhooks.models import EventStatus, IncomingEvent
from core.work.sweep import work_sweep

pytestmark = pytest.mark.django_db


def _with_value(**changes) -> dict:
    body = notification()
    body["payload"]["value"].update(changes)
    return body


@pytest.mark.parametrize("changes, why", [
    ({"chat_id": "../../etc/passwd"}, "chat_id"),
    ({"chat_id": "u2i-a/b"}, "chat_id"),
    ({"chat_id": "u2i-a?b"}, "chat_id"),
    ({"id": "../m1"}, "id"),
    ({"author_id": "not-a-number"}, "author_id"),
    ({"author_id": 1.5}, "author_id"),
    ({"user_id": "x"}, "user_id"),
    ({"created": "yesterday"}, "created"),
    ({"created": 10**20}, "created"),
    ({"created": -10**20}, "created"),
])
def test_a_malformed_message_is_stored_unprocessable_and_never_woken(client, django_capture_on_commit_callbacks,
                                                                     changes, why):
    with django_capture_on_commit_callbacks() as callbacks:
        response = post_notification(client, _with_value(**changes))
    assert (response.status_code, response.json()) == (200, {"ok": True})
    event = IncomingEvent.objects.get()
    assert event.status == EventStatus.UNPROCESSABLE
    assert why in event.note
    assert not callbacks
    with django_capture_on_commit_callbacks() as swept:
        assert work_sweep(clock=lambda: timezone.now() + timedelta(hours=1)) == {}  # long past any grace
    assert not swept


def test_created_beyond_any_float_is_stored_unprocessable(client):
    body = json.dumps(notification()).replace('"created": 1718000000', '"created": 1e400')
    response = post_notification(client, body)
    assert response.status_code == 200
    event = IncomingEvent.objects.get()
    assert (event.status, "created" in event.note) == (EventStatus.UNPROCESSABLE, True)
    # One policy for numbers out of range (core.json_input): kept exact as an integer, as for Avito's
    # answers and the API's bodies, never the text "inf".
    assert event.raw["payload"]["value"]["created"] == 10**400


@pytest.mark.parametrize("body", [
    '{"id": "e1", "payload": {"type": "message", "value": {"id": "m1", "chat_id": "u2i-a", "text": "\\ud800"}}}',
    '{"id": "e1", "payload": {"type": "message", "value": {"id": "m1", "chat_id": "u2i-a", "x": "\\udfff a"}}}',
    '{"id": "e1", "payload": {"type": "message", "value": {"id": "m1", "chat_id": "u2i-a", "created": NaN}}}',
    '{"id": "e1", "payload": {"type": "message", "value": {"id": "m1", "chat_id": "u2i-a", "n": -Infinity}}}',
    "[" * 10000 + "]" * 10000,
    '{"a": ' * 10000 + "1" + "}" * 10000,
])
def test_json_that_no_database_can_store_gets_400(client, body):
    response = post_notification(client, body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"
    assert not IncomingEvent.objects.exists()


def test_an_escaped_emoji_is_fine(client):
    body = json.dumps(notification(content={"text": "\U0001F600"}))  # ensure_ascii: a surrogate pair
    assert "\\ud83d\\ude00" in body
    assert post_notification(client, body).status_code == 200
    assert IncomingEvent.objects.get().status == EventStatus.PENDING


@pytest.mark.parametrize("method", ["trace", "put", "patch", "delete", "options"])
def test_other_methods_get_405_in_the_envelope(client, method):
    response = client.generic(method.upper(), "/webhook/avito")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert response["Allow"] == "POST"


def test_staff_find_unprocessable_events_in_the_admin_and_cannot_requeue_them(client, django_user_model):
    from webhooks.processing import event_reprocess

    post_notification(client, _with_value(chat_id="../../etc/passwd"))
    event = IncomingEvent.objects.get()
    client.force_login(django_user_model.objects.create_superuser("staff", "staff@example.com", "pw"))
    page = client.get("/admin/webhooks/incomingevent/", {"status__exact": "unprocessable"})
    assert page.status_code == 200
    assert event.message_id in page.content.decode() and "chat_id is not an Avito id" in page.content.decode()
    assert event_reprocess(event_pk=event.pk) is False


def test_deep_nesting_with_a_surrogate_escape_is_400_at_any_depth(client):
    """Deep enough that the parser copes but a recursive walk of the strings would not."""
    for depth in (400, 600, 900):
        body = '{"x": ' + "[" * depth + '"\\ud83d\\ude00"' + "]" * depth + "}"
        response = post_notification(client, body)
        assert response.status_code == 400, depth
        assert response.json()["error"]["code"] == "parse_error"
