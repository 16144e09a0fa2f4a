"""The webhook closed by default: production takes no notification without AVITO_WEBHOOK_SECRET, ignored
notifications keep only a few kilobytes of their body, and old ignored rows go.
"""
from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.webhooks.avito_payloads import notification, post_notification
from webhooks.intake import IGNORED_RAW_MAX
from webhooks.models import EventStatus, IncomingEvent
from webhooks.retention import IGNORED_KEEP, ignored_events_prune

pytestmark = pytest.mark.django_db


@pytest.fixture
def production_rule(settings):
    settings.WEBHOOK_SECRET_REQUIRED = True
    settings.AVITO_WEBHOOK_SECRET = ""
    return settings


@pytest.mark.parametrize("path", ["/webhook/avito", "/webhook/avito/", "/webhook/avito/anything"])
def test_production_without_a_secret_takes_no_notification(client, production_rule, path):
    response = post_notification(client, notification(), path)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert not IncomingEvent.objects.exists()


def test_production_with_a_secret_takes_them_on_the_secret_path_only(client, production_rule,
                                                                      django_capture_on_commit_callbacks):
    production_rule.AVITO_WEBHOOK_SECRET = "path-secret-0123456789"
    assert post_notification(client, notification(), "/webhook/avito").status_code == 404
    with django_capture_on_commit_callbacks():
        assert post_notification(client, notification(), "/webhook/avito/path-secret-0123456789").status_code == 200
    assert IncomingEvent.objects.count() == 1


def test_production_start_up_log_and_health_say_notifications_are_refused(client, production_rule, caplog):
    from avitogw.startup import warn_about_configuration

    with caplog.at_level(logging.WARNING, logger="avitogw.startup"):
        warn_about_configuration()
    [line] = [r for r in caplog.records if "AVITO_WEBHOOK_SECRET" in r.getMessage()]
    assert line.levelname == "ERROR" and "refuses every notification" in line.getMessage()
    check = client.get("/health").json()["checks"]["webhook_secret"]
    assert check == "missing: AVITO_WEBHOOK_SECRET is not set, notifications are refused"


def test_subscribing_the_default_url_without_a_secret_is_refused_in_production(client, production_rule, avito):
    production_rule.PUBLIC_BASE_URL = "https://gw.example.com"
    production_rule.API_KEY = ""  # the test client calls from loopback
    response = client.post("/api/webhook/subscribe", data={}, content_type="application/json")
    assert response.status_code == 400
    assert "AVITO_WEBHOOK_SECRET" in json.dumps(response.json())
    assert not avito.calls  # nothing registered at Avito


def test_ignored_notifications_keep_only_the_start_of_a_long_body(client, django_capture_on_commit_callbacks):
    junk = {"id": "e-junk", "payload": {"type": "chat_archived", "value": {"blob": "ж" * 500_000}}}
    body = json.dumps(junk, ensure_ascii=False).encode()
    with django_capture_on_commit_callbacks():
        assert post_notification(client, body).status_code == 200
    event = IncomingEvent.objects.get()
    assert event.status == EventStatus.IGNORED and event.event_type == "chat_archived"
    assert event.raw["truncated"] is True and event.raw["bytes"] == len(body)
    assert len(event.raw["head"].encode()) <= IGNORED_RAW_MAX + 3  # a character cut in two becomes one U+FFFD
    assert event.raw["head"].startswith('{"id": "e-junk"')
    assert len(json.dumps(event.raw)) < 3 * IGNORED_RAW_MAX


def test_a_short_ignored_notification_and_messages_are_kept_whole(client, django_capture_on_commit_callbacks):
    short = {"id": "e-short", "payload": {"type": "chat_archived", "value": {"id": "c"}}}
    long_message = notification(content={"text": "длинное сообщение " * 400})  # ~14 KB, a real message
    with django_capture_on_commit_callbacks():
        post_notification(client, short)
        post_notification(client, long_message)
    assert IncomingEvent.objects.get(avito_event_id="e-short").raw == short
    assert IncomingEvent.objects.get(status=EventStatus.PENDING).raw == long_message


def _event(status, number):
    return IncomingEvent.objects.create(avito_event_id=f"e{number}", message_id=f"m{number}", status=status,
                                        raw={}, next_attempt_at=timezone.now())


def test_old_ignored_notifications_are_pruned_and_everything_else_kept():
    now = timezone.now()
    rows = {(status, age): _event(status, number) for number, (status, age) in enumerate(
        [(s, a) for s in (EventStatus.IGNORED, EventStatus.PROCESSED, EventStatus.UNPROCESSABLE)
         for a in (IGNORED_KEEP + timedelta(hours=1), IGNORED_KEEP - timedelta(hours=1))])}
    for (status, age), row in rows.items():  # received_at is auto_now_add: set it afterwards
        IncomingEvent.objects.filter(pk=row.pk).update(received_at=now - age)
    assert ignored_events_prune(clock=lambda: now) == 1
    gone = {key for key, row in rows.items() if not IncomingEvent.objects.filter(pk=row.pk).exists()}
    assert gone == {(EventStatus.IGNORED, IGNORED_KEEP + timedelta(hours=1))}
    assert ignored_events_prune(clock=lambda: now) == 0


def test_beat_prunes_hourly(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["webhooks-ignored-prune"]
    assert entry["task"] == "webhooks.tasks.ignored_events_prune" and entry["schedule"] == 3600.0
    from webhooks.tasks import ignored_events_prune as task

    assert task.name == entry["task"]
