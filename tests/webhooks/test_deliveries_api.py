"""GET /api/deliveries, GET /api/deliveries/{id}, POST /api/deliveries/{id}/replay, and the admin."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
import responses
from django.utils import timezone

from tests.webhooks.avito_payloads import N8N_URL
from webhooks.models import Delivery, DeliveryStatus, IncomingEvent

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("n8n_settings")]


def make(event_id: str, status=DeliveryStatus.PENDING, **fields) -> Delivery:
    body = json.dumps({"event_id": event_id, "text": "Привет"}, ensure_ascii=False)
    return Delivery.objects.create(event_id=event_id, body=body, status=status, next_attempt_at=timezone.now(),
                                   **fields)


def test_the_list_shows_status_attempts_and_the_last_error(client):
    event = IncomingEvent.objects.create(raw={}, event_type="message", message_id="m-1", chat_id="u2i-a",
                                         next_attempt_at=timezone.now())
    make("avito-msg-m-1", DeliveryStatus.FAILED, attempts=3, last_status_code=500,
         last_error="n8n answered HTTP 500.", incoming_event=event)

    response = client.get("/api/deliveries")

    assert response.status_code == 200
    [row] = response.json()["deliveries"]
    assert row["event_id"] == "avito-msg-m-1"
    assert (row["status"], row["attempts"], row["max_attempts"]) == ("failed", 3, 3)
    assert (row["last_status_code"], row["last_error"]) == (500, "n8n answered HTTP 500.")
    assert (row["message_id"], row["chat_id"]) == ("m-1", "u2i-a")
    assert response.json()["meta"] == {"total": 1, "has_more": False}


def test_the_list_filters_by_status_newest_first_and_pages(client):
    for index in range(3):
        make(f"failed-{index}", DeliveryStatus.FAILED)
    make("delivered-0", DeliveryStatus.DELIVERED)

    failed = client.get("/api/deliveries", {"status": "failed"}).json()
    assert [row["event_id"] for row in failed["deliveries"]] == ["failed-2", "failed-1", "failed-0"]
    page = client.get("/api/deliveries", {"status": "failed", "limit": 2, "offset": 2}).json()
    assert [row["event_id"] for row in page["deliveries"]] == ["failed-0"]
    assert page["meta"] == {"total": 3, "has_more": False}
    assert client.get("/api/deliveries", {"limit": 1}).json()["meta"] == {"total": 4, "has_more": True}


@pytest.mark.parametrize("query", [{"status": "lost"}, {"limit": 0}, {"limit": "x"}, {"offset": -1}])
def test_bad_query_parameters_are_a_validation_error(client, query):
    response = client.get("/api/deliveries", query)
    assert response.status_code == 400
    body = response.json()["error"]
    assert body["code"] == "validation_error"
    assert set(body["details"]) == set(query)


def test_one_delivery_with_its_payload(client):
    delivery = make("avito-msg-m-2")
    response = client.get(f"/api/deliveries/{delivery.pk}")
    assert response.status_code == 200
    assert response.json()["payload"] == {"event_id": "avito-msg-m-2", "text": "Привет"}


@pytest.mark.parametrize("path", ["/api/deliveries/999999", "/api/deliveries/abc", "/api/deliveries/999999/replay",
                                  "/api/deliveries/" + "9" * 30, "/api/deliveries/" + "9" * 30 + "/replay"])
def test_unknown_deliveries_are_404_in_json(client, path):
    response = client.post(path) if path.endswith("replay") else client.get(path)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_replay_sends_a_failed_delivery_again_with_a_fresh_budget(client, eager, django_capture_on_commit_callbacks):
    delivery = make("avito-msg-m-3", DeliveryStatus.FAILED, attempts=3, last_error="n8n answered HTTP 500.")
    with responses.RequestsMock() as n8n:
        n8n.post(N8N_URL, json={"ok": True})
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(f"/api/deliveries/{delivery.pk}/replay")
        assert [call.request.headers["webhook-id"] for call in n8n.calls] == ["avito-msg-m-3"]

    assert response.status_code == 200
    answer = response.json()
    assert (answer["ok"], answer["delivery"]["status"], answer["delivery"]["attempts"]) == (True, "pending", 0)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERED, 1)


def test_replay_of_a_delivery_being_posted_is_a_conflict(client):
    delivery = make("avito-msg-m-4", DeliveryStatus.DELIVERING, attempts=1,
                    lease_owner="worker:1", lease_expires=timezone.now() + timedelta(seconds=20))
    response = client.post(f"/api/deliveries/{delivery.pk}/replay")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "delivery_in_progress"
    assert Delivery.objects.get().status == DeliveryStatus.DELIVERING


def test_the_api_key_guards_the_deliveries(client, settings):
    settings.API_KEY = "k-123"
    assert client.get("/api/deliveries").status_code == 401
    assert client.get("/api/deliveries", HTTP_X_API_KEY="k-123").status_code == 200


class TestAdmin:
    @pytest.fixture
    def staff(self, client, django_user_model):
        user = django_user_model.objects.create_superuser("staff", "staff@example.com", "pw")
        client.force_login(user)
        return client

    def test_the_lists_filter_by_status(self, staff):
        make("avito-msg-a", DeliveryStatus.FAILED, last_error="n8n answered HTTP 500.")
        make("avito-msg-b", DeliveryStatus.DELIVERED)
        page = staff.get("/admin/webhooks/delivery/", {"status__exact": "failed"})
        assert page.status_code == 200
        assert b"avito-msg-a" in page.content and b"avito-msg-b" not in page.content
        IncomingEvent.objects.create(raw={"payload": {"type": "message"}}, event_type="message", message_id="m-9",
                                     next_attempt_at=timezone.now())
        assert b"m-9" in staff.get("/admin/webhooks/incomingevent/", {"status__exact": "pending"}).content

    def test_a_delivery_page_shows_its_payload(self, staff):
        delivery = make("avito-msg-c")
        page = staff.get(f"/admin/webhooks/delivery/{delivery.pk}/change/")
        assert page.status_code == 200
        assert "Привет" in page.content.decode()

    def test_the_replay_action_queues_failed_deliveries(self, staff, django_capture_on_commit_callbacks):
        failed = make("avito-msg-d", DeliveryStatus.FAILED, attempts=3)
        with django_capture_on_commit_callbacks() as callbacks:
            response = staff.post("/admin/webhooks/delivery/", {"action": "replay", "_selected_action": [failed.pk]})
        assert response.status_code == 302
        failed.refresh_from_db()
        assert (failed.status, failed.attempts) == (DeliveryStatus.PENDING, 0)
        assert len(callbacks) == 1

    def test_the_process_again_action_requeues_failed_events(self, staff, django_capture_on_commit_callbacks):
        event = IncomingEvent.objects.create(raw={}, event_type="message", message_id="m-10", status="failed",
                                             attempts=3, next_attempt_at=timezone.now())
        with django_capture_on_commit_callbacks() as callbacks:
            staff.post("/admin/webhooks/incomingevent/", {"action": "process_again", "_selected_action": [event.pk]})
        event.refresh_from_db()
        assert (event.status, event.attempts) == ("pending", 0)
        assert len(callbacks) == 1
