"""`GET /metrics`: who may read it, and that each counter, histogram and gauge moves with what it counts.

These run in the test process (one process); tests/ops/test_metrics_processes.py adds up
real gunicorn and Celery processes. Counters accumulate over the test session (the files of
multiprocess mode outlive a test), so each test compares a scrape before and after.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
import requests
import responses
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from core.metrics import avito_operation
from bulk.models import BulkItem, BulkItemStatus, BulkJob
from tests.conftest import AVITO, USER_ID
from tests.ops.metrics_scrape import value
from tests.webhooks.avito_payloads import N8N_URL, avito_chat, chat_url, notification, post_notification
from webhooks.delivery import delivery_attempt
from webhooks.models import Delivery, DeliveryStatus, EventStatus, IncomingEvent

pytestmark = pytest.mark.django_db
KEY = "k-metrics-51c0"


def scrape(**headers) -> str:
    response = Client().get("/metrics", **headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")  # Prometheus' text format
    return response.content.decode()


def test_with_a_key_set_metrics_need_it_as_header_or_bearer(settings):
    settings.API_KEY = KEY
    for headers in ({}, {"HTTP_X_API_KEY": "nope"}, {"HTTP_AUTHORIZATION": "Bearer nope"}):
        response = Client().get("/metrics", **headers)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthorized"
    assert "avitogw_metrics_database_up 1.0" in scrape(HTTP_X_API_KEY=KEY)
    assert "avitogw_metrics_database_up 1.0" in scrape(HTTP_AUTHORIZATION=f"Bearer {KEY}")


def test_without_a_key_metrics_answer_loopback_only():
    assert Client(REMOTE_ADDR="198.51.100.4").get("/metrics").status_code == 403
    assert "avitogw_metrics_database_up" in scrape()


def test_other_methods_get_a_json_405():
    response = Client().post("/metrics")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


@pytest.mark.usefixtures("n8n_settings")
def test_webhook_outcomes_are_counted(settings):
    settings.N8N_WEBHOOK_URL = ""  # stored and left for the worker (no wake-up runs here)
    client, before = Client(), scrape()
    body = notification()
    post_notification(client, body)                      # stored
    post_notification(client, body)                      # duplicate
    post_notification(client, {})                        # Avito's probe: ignored
    post_notification(client, {"id": "x", "payload": {"type": "voip_call", "value": {}}})  # ignored
    post_notification(client, b"{not json")              # rejected
    after = scrape()
    name = "avitogw_webhook_events_total"
    assert {outcome: value(after, name, outcome=outcome) - value(before, name, outcome=outcome)
            for outcome in ("stored", "duplicate", "ignored", "rejected")} == {
        "stored": 1, "duplicate": 1, "ignored": 2, "rejected": 1}


def test_a_wrong_path_secret_is_counted_as_rejected(settings):
    settings.AVITO_WEBHOOK_SECRET = "s3cret"
    before = scrape()
    assert post_notification(Client(), notification(), path="/webhook/avito/guess").status_code == 404
    name = "avitogw_webhook_events_total"
    assert value(scrape(), name, outcome="rejected") - value(before, name, outcome="rejected") == 1


def test_avito_requests_are_counted_by_operation_and_status_with_durations(avito):
    avito.get(f"{AVITO}/messenger/v2/accounts/{USER_ID}/chats", json={"chats": [], "meta": {"has_more": False}})
    avito.get(chat_url("u2i-missing"), status=404, json={"error": {"code": 404, "message": "not found"}})
    avito.get(chat_url("u2i-slow"), body=requests.exceptions.ReadTimeout("slow"))
    before = scrape()
    client = Client()
    assert client.get("/api/chats").status_code == 200
    assert client.get("/api/chats/u2i-missing").status_code == 404
    assert client.get("/api/chats/u2i-slow").status_code == 504
    after = scrape()

    def delta(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("avitogw_avito_requests_total", operation="getAccessToken", status="200") == 1
    assert delta("avitogw_avito_requests_total", operation="getChatsV2", status="200") == 1
    assert delta("avitogw_avito_requests_total", operation="getChatByIdV2", status="404") == 1
    assert delta("avitogw_avito_requests_total", operation="getChatByIdV2", status="timeout") == 4  # MAX_RETRIES 3
    assert delta("avitogw_avito_request_duration_seconds_count", operation="getChatByIdV2") == 5
    assert delta("avitogw_avito_rate_limit_wait_seconds_count", outcome="granted") == 7


@pytest.mark.parametrize("method, path, operation", [
    ("POST", "/token", "getAccessToken"),
    ("POST", f"/messenger/v1/accounts/{USER_ID}/chats/u2i-a/messages", "postSendMessage"),
    ("POST", f"/messenger/v1/accounts/{USER_ID}/chats/u2i-a/messages/image", "postSendImageMessage"),
    ("POST", f"/messenger/v1/accounts/{USER_ID}/chats/u2i-a/messages/m-1", "deleteMessage"),
    ("GET", f"/messenger/v3/accounts/{USER_ID}/chats/u2i-a/messages/", "getMessagesV3"),
    ("GET", f"/messenger/v2/accounts/{USER_ID}/chats/u2i-a", "getChatByIdV2"),
    ("GET", "/somewhere/else", "other"),
])
def test_an_avito_path_is_named_by_its_operation_never_by_its_ids(method, path, operation):
    assert avito_operation(method, "https://api.avito.ru" + path + "?limit=5") == operation


@pytest.mark.usefixtures("n8n_settings")
def test_deliveries_are_counted_by_outcome_with_the_lag_from_arrival(avito, eager, settings,
                                                                     django_capture_on_commit_callbacks):
    settings.N8N_FORWARD_MAX_ATTEMPTS = 2
    avito.get(chat_url(), json=avito_chat())
    avito.post(N8N_URL, status=500)
    before = scrape()
    with django_capture_on_commit_callbacks(execute=True):
        post_notification(Client(), notification())  # processed and posted at once: n8n fails, a retry is due
    [delivery] = Delivery.objects.all()
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    delivery_attempt(delivery_pk=delivery.pk)    # the last attempt fails too
    Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.PENDING, attempts=1,
                                                   next_attempt_at=timezone.now())  # replayed, as staff would
    received = delivery.incoming_event.received_at
    avito.replace(responses.POST, N8N_URL, json={"ok": True})
    delivered = delivery_attempt(delivery_pk=delivery.pk, clock=lambda: received + timedelta(seconds=42))
    assert delivered.status == DeliveryStatus.DELIVERED
    after = scrape()

    def delta(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert [delta("avitogw_n8n_deliveries_total", outcome=o) for o in ("retry", "failed", "delivered")] == [1, 1, 1]
    assert delta("avitogw_n8n_delivery_lag_seconds_count", attempt="later") == 1
    assert delta("avitogw_n8n_delivery_lag_seconds_sum", attempt="later") == pytest.approx(42)
    assert delta("avitogw_n8n_delivery_lag_seconds_bucket", attempt="later", le="30.0") == 0
    assert delta("avitogw_n8n_delivery_lag_seconds_bucket", attempt="later", le="60.0") == 1


def test_gauges_are_read_from_the_database_at_scrape_time(avito):
    now = timezone.now()
    for status, count in ((DeliveryStatus.PENDING, 3), (DeliveryStatus.FAILED, 2), (DeliveryStatus.DELIVERED, 5)):
        Delivery.objects.bulk_create(Delivery(event_id=f"{status}-{n}", body="{}", status=status, next_attempt_at=now)
                                     for n in range(count))
    for n, status in enumerate([EventStatus.PENDING] * 4 + [EventStatus.ERROR] + [EventStatus.PROCESSED] * 6):
        IncomingEvent.objects.create(raw={}, event_type="message", message_id=f"e-{n}", chat_id="u2i-a",
                                     status=status, next_attempt_at=now)
    job = BulkJob.objects.create(total=3)
    for index, status in enumerate([BulkItemStatus.PENDING, BulkItemStatus.SENT, BulkItemStatus.SENT]):
        BulkItem.objects.create(job=job, index=index, chat_id="u2i-a", kind="text", status=status)
    text = scrape()
    assert value(text, "avitogw_n8n_delivery_backlog", status="pending") == 3
    assert value(text, "avitogw_n8n_delivery_backlog", status="failed") == 2
    # The events' own table, by their own statuses (not the deliveries': 3 pending there, 4 here).
    assert value(text, "avitogw_incoming_events_backlog", status="pending") == 4
    assert value(text, "avitogw_incoming_events_backlog", status="error") == 1
    assert value(text, "avitogw_incoming_events_backlog", status="processed") == 0
    assert value(text, "avitogw_bulk_items", status="sent") == 2
    assert value(text, "avitogw_bulk_items", status="pending") == 1
    assert value(text, "avitogw_bulk_jobs", status="queued") == 1
    assert "avitogw_avito_token_expires_in_seconds" not in text  # no token fetched yet

    assert Client().get("/api/token").status_code == 200  # the token endpoint says 86400 s
    left = value(scrape(), "avitogw_avito_token_expires_in_seconds")
    assert 86300 < left <= 86400


def test_metrics_reset_empties_the_folder_before_the_processes_start(settings, tmp_path):
    settings.METRICS_DIR = tmp_path / "metrics"
    settings.METRICS_DIR.mkdir()
    (settings.METRICS_DIR / "counter_999999.db").write_bytes(b"\0" * 16)  # a process of the last run
    call_command("metrics_reset")
    assert settings.METRICS_DIR.is_dir() and list(settings.METRICS_DIR.iterdir()) == []
