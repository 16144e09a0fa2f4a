"""Events and deliveries on the engine's sweep: lost wake-ups and dead workers lose nothing."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.webhooks.avito_payloads import N8N_URL, avito_chat, chat_url, notification, post_notification
from core.work.leases import LEASE
from core.work.sweep import work_sweep
from core.work.leases import LOST_WORKER
from webhooks.models import Delivery, DeliveryStatus, EventStatus, IncomingEvent
from webhooks.processing import EVENTS

GRACE = EVENTS.grace

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("n8n_settings")]


@pytest.fixture
def lost_wakeups(monkeypatch):
    """The broker swallows every wake-up (as a worker killed with prefetched tasks would)."""
    from core.work import wakeups

    monkeypatch.setattr(wakeups, "wake_now", lambda *a, **k: None)
    return monkeypatch


@pytest.fixture
def sweep(django_capture_on_commit_callbacks):
    def run(after: timedelta):
        with django_capture_on_commit_callbacks(execute=True):
            done = work_sweep(clock=lambda: timezone.now() + after)
            return {"events": done.get("events woken", 0), "deliveries": done.get("deliveries woken", 0),
                    "taken back": done.get("events taken back", 0) + done.get("deliveries taken back", 0)}
    return run


def test_an_event_whose_wake_up_was_lost_is_processed_and_delivered(client, avito, lost_wakeups, sweep, eager,
                                                                   django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert post_notification(client, notification(message_id="lost-1")).status_code == 200
    assert IncomingEvent.objects.get().status == EventStatus.PENDING

    assert sweep(after=timedelta(0)) == {"events": 0, "deliveries": 0, "taken back": 0}  # its own wake-up may still be coming
    lost_wakeups.undo()  # the broker works again
    avito.get(chat_url(), json=avito_chat())
    avito.post(N8N_URL, json={"ok": True})
    assert sweep(after=GRACE + timedelta(seconds=1))["events"] == 1

    assert IncomingEvent.objects.get().status == EventStatus.PROCESSED
    assert Delivery.objects.get().status == DeliveryStatus.DELIVERED
    assert [call.request.headers["webhook-id"] for call in avito.calls if call.request.url == N8N_URL] == [
        "avito-msg-lost-1"]


def stuck_event(*, lease_left: timedelta) -> IncomingEvent:
    """An event a worker claimed and never finished (its lease ends `lease_left` from now)."""
    now = timezone.now()
    return IncomingEvent.objects.create(raw=notification(), event_type="message", message_id="m-stuck",
                                        chat_id="u2i-x", next_attempt_at=now - LEASE,
                                        status=EventStatus.PROCESSING, attempts=1, lease_owner="worker:1",
                                        lease_expires=now + lease_left)


def test_an_event_held_by_a_live_worker_is_left_alone(lost_wakeups, sweep):
    stuck_event(lease_left=timedelta(seconds=5))
    assert sweep(after=timedelta(0))["events"] == 0
    assert IncomingEvent.objects.get().status == EventStatus.PROCESSING


def test_an_event_held_by_a_dead_worker_is_taken_back_after_its_lease(lost_wakeups, sweep):
    event = stuck_event(lease_left=-timedelta(seconds=1))
    assert sweep(after=timedelta(0)) == {"events": 1, "deliveries": 0, "taken back": 1}  # woken at once
    event.refresh_from_db()
    assert (event.status, event.last_error, event.lease_owner) == (EventStatus.PENDING, LOST_WORKER, "")


def test_an_event_whose_every_attempt_died_with_its_worker_fails(lost_wakeups, sweep, settings):
    event = stuck_event(lease_left=-timedelta(seconds=1))
    IncomingEvent.objects.filter(pk=event.pk).update(attempts=settings.EVENT_MAX_ATTEMPTS)
    assert sweep(after=timedelta(0)) == {"events": 0, "deliveries": 0, "taken back": 1}
    assert IncomingEvent.objects.get().status == EventStatus.FAILED


def stuck_delivery(*, lease_left: timedelta, attempts: int = 1) -> Delivery:
    now = timezone.now()
    return Delivery.objects.create(event_id="avito-msg-stuck", body='{"event_id": "avito-msg-stuck"}',
                                   status=DeliveryStatus.DELIVERING, attempts=attempts,
                                   next_attempt_at=now - LEASE, lease_owner="worker:1",
                                   lease_expires=now + lease_left)


def test_a_delivery_held_by_a_live_worker_is_left_alone(lost_wakeups, sweep):
    stuck_delivery(lease_left=timedelta(seconds=5))
    assert sweep(after=timedelta(0))["deliveries"] == 0
    assert Delivery.objects.get().status == DeliveryStatus.DELIVERING


def test_a_delivery_held_by_a_dead_worker_is_posted_again_with_the_same_id(avito, sweep, eager):
    stuck_delivery(lease_left=-timedelta(seconds=1))
    avito.post(N8N_URL, json={"ok": True})
    assert sweep(after=timedelta(0))["deliveries"] == 1

    row = Delivery.objects.get()
    assert (row.status, row.attempts) == (DeliveryStatus.DELIVERED, 2)
    assert avito.calls[0].request.headers["webhook-id"] == "avito-msg-stuck"


def test_a_delivery_whose_last_attempt_died_with_its_worker_fails(lost_wakeups, sweep, settings):
    stuck_delivery(lease_left=-timedelta(seconds=1), attempts=settings.N8N_FORWARD_MAX_ATTEMPTS)
    assert sweep(after=timedelta(0))["deliveries"] == 0
    row = Delivery.objects.get()
    assert (row.status, row.last_error) == (DeliveryStatus.FAILED, LOST_WORKER)


def test_a_retry_whose_wake_up_was_lost_is_sent_once_due(avito, sweep, eager):
    now = timezone.now()
    due = Delivery.objects.create(event_id="avito-msg-due", body="{}", attempts=1, next_attempt_at=now + GRACE)
    avito.post(N8N_URL, json={"ok": True})
    assert sweep(after=timedelta(0))["deliveries"] == 0  # not due yet
    Delivery.objects.filter(pk=due.pk).update(next_attempt_at=now - GRACE - timedelta(seconds=1))
    assert sweep(after=timedelta(0))["deliveries"] == 1
    assert Delivery.objects.get().status == DeliveryStatus.DELIVERED
