"""The events doorbell (real Redis): one drain per burst (a few on a backlog), every pending event
drained once, no event left."""
from __future__ import annotations

import pytest

from tests.webhooks.avito_payloads import N8N_URL, avito_chat, chat_url, notification, post_notification
from webhooks import doorbell, services, wakeups
from webhooks.models import Delivery, EventStatus, IncomingEvent
from webhooks.services import events_drain

pytestmark = [pytest.mark.django_db, pytest.mark.redis, pytest.mark.usefixtures("n8n_settings")]


@pytest.fixture
def bell_redis(redis_url, settings):
    settings.REDIS_URL = redis_url
    doorbell.bell_reset()
    yield redis_url
    doorbell.bell_reset()


@pytest.fixture
def published(monkeypatch):
    """What would have been sent to the broker, in order."""
    sent = []
    monkeypatch.setattr(wakeups, "_publish", lambda task, *args, countdown=None: sent.append((task.name, args)))
    return sent


@pytest.fixture
def receive(client, django_capture_on_commit_callbacks):
    def post(**message):
        with django_capture_on_commit_callbacks(execute=True):
            assert post_notification(client, notification(**message)).status_code == 200
    return post


def test_the_bell_rings_once_until_it_is_answered(bell_redis):
    assert doorbell.bell_ring() is True
    assert doorbell.bell_ring() is False
    doorbell.bell_answer()
    assert doorbell.bell_ring() is True


def test_a_burst_of_events_wakes_one_drain(bell_redis, published, receive):
    for _ in range(5):
        receive()
    assert published == [("webhooks.tasks.events_drain", ())]
    assert IncomingEvent.objects.filter(status=EventStatus.PENDING).count() == 5


def test_the_drain_processes_every_pending_event_and_the_next_event_rings_again(
        bell_redis, published, receive, avito, django_capture_on_commit_callbacks):
    avito.get(chat_url(), json=avito_chat())
    avito.post(N8N_URL, json={"ok": True})
    for _ in range(3):
        receive()
    published.clear()

    with django_capture_on_commit_callbacks(execute=True):
        assert events_drain() == 3
    assert not IncomingEvent.objects.exclude(status=EventStatus.PROCESSED).exists()
    assert Delivery.objects.count() == 3
    assert [name for name, _ in published] == ["webhooks.tasks.delivery_attempt"] * 3

    published.clear()
    receive()  # after the drain answered the bell: a new drain is woken
    assert published == [("webhooks.tasks.events_drain", ())]


def test_a_long_burst_is_handed_over_to_a_fresh_drain(bell_redis, published, receive, avito, monkeypatch,
                                                     django_capture_on_commit_callbacks):
    monkeypatch.setattr(services, "DRAIN_LIMIT", 2)
    avito.get(chat_url(), json=avito_chat())
    avito.post(N8N_URL, json={"ok": True})
    for _ in range(3):
        receive()
    published.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert events_drain() == 2
    assert ("webhooks.tasks.events_drain", (False,)) in published
    assert IncomingEvent.objects.filter(status=EventStatus.PENDING).count() == 1


def test_a_backlog_wakes_more_drains_once_and_they_leave_claimed_events_alone(
        bell_redis, published, receive, avito, django_capture_on_commit_callbacks):
    avito.get(chat_url(), json=avito_chat())
    avito.post(N8N_URL, json={"ok": True})
    for _ in range(services.CLAIM_BATCH * 2 + 1):
        receive()
    held = IncomingEvent.objects.order_by("pk").first()
    IncomingEvent.objects.filter(pk=held.pk).update(status=EventStatus.PROCESSING)  # another drain's
    published.clear()

    with django_capture_on_commit_callbacks(execute=True):
        assert events_drain() == services.CLAIM_BATCH * 2
    drains = [args for name, args in published if name == "webhooks.tasks.events_drain"]
    assert drains == [(False,)] * (services.DRAIN_FAN_OUT - 1)
    assert IncomingEvent.objects.filter(status=EventStatus.PROCESSED).count() == services.CLAIM_BATCH * 2
    assert IncomingEvent.objects.get(pk=held.pk).status == EventStatus.PROCESSING
    assert set(IncomingEvent.objects.exclude(pk=held.pk).values_list("attempts", flat=True)) == {1}

    published.clear()
    for _ in range(services.CLAIM_BATCH):
        receive()
    published.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert events_drain(fan_out=False) == services.CLAIM_BATCH  # a helper does not fan out again
    assert not [name for name, _ in published if name == "webhooks.tasks.events_drain"]


def test_without_redis_every_event_wakes_its_own_task(published, receive):
    receive()
    receive()
    pks = list(IncomingEvent.objects.order_by("pk").values_list("pk", flat=True))
    assert published == [("webhooks.tasks.event_process", (pk,)) for pk in pks]


def test_redis_down_falls_back_to_a_task_per_event_and_avito_still_gets_200(settings, published, receive):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    doorbell.bell_reset()
    try:
        receive()
    finally:
        doorbell.bell_reset()
    [event] = IncomingEvent.objects.all()
    assert published == [("webhooks.tasks.event_process", (event.pk,))]
