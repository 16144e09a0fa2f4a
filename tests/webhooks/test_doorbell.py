"""The events doorbell (real Redis): one drain per burst (a few on a backlog), every pending event
drained once, no event left."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from tests.webhooks.avito_payloads import N8N_URL, avito_chat, chat_url, notification, post_notification
from webhooks import doorbell, services, wakeups
from webhooks.models import Delivery, DeliveryStatus, EventStatus, IncomingEvent
from webhooks.intake import EVENT_PROCESSORS
from webhooks.processors import EventProcessor, Processed
from webhooks.services import events_drain

T0 = datetime(2030, 1, 5, 9, 0, tzinfo=timezone.utc)  # after the events were stored: they are due

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
    monkeypatch.setattr(wakeups, "_publish", lambda task, *args, countdown=None: sent.append((task.name, args)) or True)
    return sent


@pytest.fixture
def receive(client, django_capture_on_commit_callbacks):
    def post(**message):
        with django_capture_on_commit_callbacks(execute=True):
            assert post_notification(client, notification(**message)).status_code == 200
    return post


@pytest.fixture
def backlog(receive, avito, published):
    """`backlog(n)`: n customer messages stored, Avito and n8n answering; what they published forgotten."""
    avito.get(chat_url(), json=avito_chat())
    avito.post(N8N_URL, json={"ok": True})

    def store(count: int) -> None:
        for _ in range(count):
            receive()
        published.clear()
    return store


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
        bell_redis, published, receive, backlog, django_capture_on_commit_callbacks):
    backlog(3)

    with django_capture_on_commit_callbacks(execute=True):
        assert events_drain() == 3
    assert not IncomingEvent.objects.exclude(status=EventStatus.PROCESSED).exists()
    assert list(Delivery.objects.values_list("status", flat=True)) == [DeliveryStatus.DELIVERED] * 3
    assert published == []  # each delivery was posted by the drain itself, not by a task of its own

    published.clear()
    receive()  # after the drain answered the bell: a new drain is woken
    assert published == [("webhooks.tasks.events_drain", ())]


def test_a_long_burst_is_handed_over_to_a_fresh_drain(bell_redis, published, backlog, monkeypatch,
                                                     django_capture_on_commit_callbacks):
    monkeypatch.setattr(services, "DRAIN_LIMIT", 2)
    backlog(3)
    with django_capture_on_commit_callbacks(execute=True):
        assert events_drain() == 2
    assert ("webhooks.tasks.events_drain", (False,)) in published
    assert IncomingEvent.objects.filter(status=EventStatus.PENDING).count() == 1


def test_a_backlog_wakes_more_drains_once_and_they_leave_claimed_events_alone(
        bell_redis, published, receive, backlog, django_capture_on_commit_callbacks):
    backlog(services.CLAIM_BATCH * 2 + 1)
    held = IncomingEvent.objects.order_by("pk").first()
    IncomingEvent.objects.filter(pk=held.pk).update(status=EventStatus.PROCESSING)  # another drain's

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


class TestLeasesOfABatch:
    """A batch is claimed for two leases; an event with less than one left when its turn comes is
    renewed first, or left alone if the sweep gave it to another worker meanwhile."""

    @pytest.fixture
    def two_events(self, bell_redis, published, receive):
        for _ in range(2):
            receive()
        return list(IncomingEvent.objects.order_by("pk"))

    def leases_seen(self, monkeypatch, also=lambda event: None) -> list:
        seen = []

        def prepare(event):
            seen.append((event.pk, IncomingEvent.objects.get(pk=event.pk).claimed_until))
            also(event)
        monkeypatch.setitem(EVENT_PROCESSORS, "message", EventProcessor(prepare, lambda event, _: Processed("")))
        return seen

    def test_a_quick_batch_costs_no_renewal(self, two_events, monkeypatch):
        seen = self.leases_seen(monkeypatch)
        assert events_drain(clock=lambda: T0) == 2
        assert [lease for _, lease in seen] == [T0 + 2 * services.event_lease()] * 2

    def test_an_event_whose_turn_comes_late_is_renewed_first(self, two_events, monkeypatch):
        lease = services.event_lease()
        ticks = iter(T0 + lease * step for step in range(100))  # every look at the clock: a lease later
        seen = self.leases_seen(monkeypatch)
        assert events_drain(clock=lambda: next(ticks)) == 2
        (_, first), (_, second) = seen
        assert first == T0 + 2 * lease  # claimed at T0, enough left at the first event's turn
        assert second > first  # the second's turn came with less than a lease left: renewed

    def test_an_event_the_sweep_took_back_meanwhile_is_left_to_its_new_holder(self, two_events, monkeypatch):
        first, second = two_events
        ticks = iter(T0 + services.event_lease() * step for step in range(100))
        # While the first is processed, the sweep takes the second back and another worker claims it.
        seen = self.leases_seen(monkeypatch, also=lambda event: IncomingEvent.objects.filter(
            pk=second.pk).update(attempts=2))
        events_drain(clock=lambda: next(ticks))
        assert [pk for pk, _ in seen] == [first.pk]
        assert IncomingEvent.objects.get(pk=second.pk).status == EventStatus.PROCESSING  # the other worker's


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
