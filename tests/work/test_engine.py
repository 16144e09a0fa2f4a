"""The engine itself: leased claims, the fenced finish, the heartbeat, wake-ups by name after commit.

Any leased model shows it; deliveries are used because their rows are the simplest.
"""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
from django.db import transaction

from core.work import wakeups
from core.work.heartbeat import Heartbeat
from core.work.leases import LEASE, lease_claim, lease_finish, lease_owner_new, leases_expired
from webhooks.models import Delivery, DeliveryStatus

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)


def row(**fields) -> Delivery:
    return Delivery.objects.create(event_id=f"e-{Delivery.objects.count()}", body="{}", next_attempt_at=T0, **fields)


def pending():
    return Delivery.objects.filter(status=DeliveryStatus.PENDING)


def test_a_claim_leases_only_free_rows_and_says_how_many_it_got():
    free, held = row(), row(lease_owner="other:1", lease_expires=T0 + LEASE)
    assert lease_claim(pending(), owner="me:1", now=T0, status=DeliveryStatus.DELIVERING) == 1
    free.refresh_from_db()
    assert (free.status, free.lease_owner, free.lease_expires) == (DeliveryStatus.DELIVERING, "me:1", T0 + LEASE)
    assert Delivery.objects.get(pk=held.pk).lease_owner == "other:1"
    assert lease_claim(pending(), owner="me:2", now=T0) == 0  # nothing free is left


def test_the_finish_is_fenced_on_the_owner():
    delivery = row()
    lease_claim(pending(), owner="slow:1", now=T0, status=DeliveryStatus.DELIVERING)
    # The slow worker's lease ran out; the sweep freed the row and another worker finished it.
    Delivery.objects.filter(pk=delivery.pk).update(lease_owner="", lease_expires=None)
    lease_claim(Delivery.objects.all(), owner="next:1", now=T0)
    assert lease_finish(Delivery, delivery.pk, owner="slow:1", status=DeliveryStatus.FAILED) is False
    assert lease_finish(Delivery, delivery.pk, owner="next:1", status=DeliveryStatus.DELIVERED) is True
    delivery.refresh_from_db()
    assert (delivery.status, delivery.lease_owner, delivery.lease_expires) == (DeliveryStatus.DELIVERED, "", None)


def test_every_claim_has_an_owner_of_its_own():
    owners = {lease_owner_new() for _ in range(100)}
    assert len(owners) == 100 and all(len(owner) <= 64 for owner in owners)


def test_the_heartbeat_renews_what_is_held_and_nothing_after(settings):
    clock = [T0]
    heartbeat = Heartbeat(every=3600, clock=lambda: clock[0])  # beats only when told, here
    mine, other = row(), row()
    lease_claim(pending().filter(pk=mine.pk), owner="me:1", now=T0)
    lease_claim(pending().filter(pk=other.pk), owner="other:1", now=T0)
    with heartbeat.holding("me:1", Delivery):
        clock[0] = T0 + timedelta(seconds=25)
        assert heartbeat.beat() == 1
        clock[0] = T0 + timedelta(seconds=50)
        assert heartbeat.beat() == 1
    assert list(leases_expired(Delivery, now=T0 + timedelta(seconds=60)).values_list("pk", flat=True)) == [other.pk]
    assert Delivery.objects.get(pk=mine.pk).lease_expires == T0 + timedelta(seconds=50) + LEASE
    clock[0] = T0 + timedelta(seconds=75)
    assert heartbeat.beat() == 0  # released: a worker stuck after its block keeps nothing alive


@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_thread_renews_while_the_work_runs():
    heartbeat = Heartbeat(every=0.05)
    delivery = row()
    lease_claim(pending(), owner="busy:1", now=T0)
    with heartbeat.holding("busy:1", Delivery):
        deadline = threading.Event()
        for _ in range(100):
            if Delivery.objects.get(pk=delivery.pk).lease_expires > T0 + LEASE:
                break
            deadline.wait(0.05)
    assert Delivery.objects.get(pk=delivery.pk).lease_expires > T0 + LEASE  # renewed from "now", by the thread


def test_a_wake_up_goes_out_by_name_after_the_commit(monkeypatch, django_capture_on_commit_callbacks):
    sent = []
    monkeypatch.setattr("celery.Celery.send_task", lambda app, name, **kw: sent.append((name, kw["args"])))
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            wakeups.wake("some.task", 7)
            assert sent == []  # not before the commit: a worker must find the row
    assert sent == [("some.task", (7,))]


def test_a_broker_that_is_down_does_not_fail_the_caller(monkeypatch, caplog):
    def down(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr("celery.Celery.send_task", down)
    wakeups.wake_now("some.task", 1)
    assert "the sweep will pick it up" in caplog.text


@pytest.fixture
def redis_cache(settings, redis_url):
    settings.REDIS_URL = redis_url
    return settings


@pytest.mark.redis
def test_a_drain_is_woken_once_per_burst_and_again_once_it_has_started(redis_cache, monkeypatch,
                                                                        django_capture_on_commit_callbacks):
    sent = []
    monkeypatch.setattr(wakeups, "wake_now", lambda task, *args, **kwargs: sent.append(task))
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(3):
            wakeups.wake_coalesced("drain.task")
    assert sent == ["drain.task"]  # the first of the burst rang; the drain will find the others
    wakeups.woken("drain.task")  # the drain starts looking: whatever commits from now on rings again
    with django_capture_on_commit_callbacks(execute=True):
        wakeups.wake_coalesced("drain.task")
        wakeups.wake_coalesced("other.task")
    assert sent == ["drain.task", "drain.task", "other.task"]


def test_without_redis_or_when_it_fails_every_wake_up_is_published(settings, monkeypatch,
                                                                   django_capture_on_commit_callbacks):
    sent = []
    monkeypatch.setattr(wakeups, "wake_now", lambda task, *args, **kwargs: sent.append(task))
    with django_capture_on_commit_callbacks(execute=True):
        wakeups.wake_coalesced("drain.task")
        wakeups.wake_coalesced("drain.task")
    assert sent == ["drain.task"] * 2
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    with django_capture_on_commit_callbacks(execute=True):
        wakeups.wake_coalesced("drain.task")
    wakeups.woken("drain.task")  # logs, does not raise
    assert sent == ["drain.task"] * 3
