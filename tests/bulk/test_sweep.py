"""The beat sweep: every lost wake-up is sent again, once per orphan period, and stalled jobs finish."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from messenger.bulk.sending import bulk_item_send
from messenger.bulk.services import bulk_job_create
from messenger.bulk.sweep import bulk_sweep
from messenger.bulk.wakeups import orphan_after
from messenger.models import BulkItem, BulkJob

CHAT = "u2i-y9ykWR1EkNOJJMaE9i9m8w"
pytestmark = pytest.mark.django_db(transaction=True)


def later(seconds: float):
    moment = timezone.now() + timedelta(seconds=seconds)
    return lambda: moment


def new_job(count: int, **extra) -> BulkJob:
    return bulk_job_create(items=[{"kind": "text", "chat_id": CHAT, "payload": {"text": f"n{i}"}}
                                  for i in range(count)], **extra)


def names(queued) -> list[str]:
    return [name.rsplit(".", 1)[1] for name, _, _ in queued]


def test_a_fresh_job_is_left_alone(queued):
    new_job(3)
    queued.clear()
    assert bulk_sweep() == {} and queued == []


def test_lost_wake_ups_are_sent_again_once_per_orphan_period(queued):
    job = new_job(3)
    queued.clear()
    acted = bulk_sweep(clock=later(orphan_after() + 1))
    assert acted == {"overdue": 3}
    assert sorted(args[0] for _, args, _ in queued) == sorted(job.items.values_list("id", flat=True))
    queued.clear()
    assert bulk_sweep(clock=later(orphan_after() + 2)) == {} and queued == []  # just woken: not again
    assert bulk_sweep(clock=later(2 * orphan_after() + 3)) == {"overdue": 3}


def test_an_item_orphaned_by_a_dead_worker_goes_to_the_resolver_not_the_sender(queued):
    job = new_job(1)
    [item] = job.items.all()
    claimed_at = timezone.now()
    BulkItem.objects.filter(id=item.id).update(status="sending", claimed_at=claimed_at, next_attempt_at=None)
    queued.clear()
    assert bulk_sweep(clock=later(orphan_after() - 1)) == {}  # its sender may still be alive
    assert bulk_sweep(clock=later(orphan_after() + 1)) == {"orphaned": 1}
    assert queued == [("messenger.bulk.tasks.bulk_item_resolve", (item.id, claimed_at.isoformat()), queued[0][2])]
    assert bulk_sweep(clock=later(orphan_after() + 2)) == {}


def test_pending_items_of_a_cancelled_job_are_cancelled_and_the_job_ends(queued):
    job = new_job(2)
    BulkJob.objects.filter(id=job.id).update(status="cancelled")  # as if cancel died halfway
    assert bulk_sweep() == {"cancelled": 2, "ended": 1}
    job.refresh_from_db()
    assert job.finished_at is not None and set(job.items.values_list("status", flat=True)) == {"cancelled"}


def test_a_job_whose_last_finisher_died_is_ended_and_its_callback_woken(queued):
    job = new_job(1, callback_url="https://n8n.example.com/hook")
    BulkItem.objects.filter(job=job).update(status="sent", message_id="m-1", finished_at=timezone.now())
    queued.clear()
    assert bulk_sweep() == {"ended": 1}
    job.refresh_from_db()
    assert (job.status, job.callback_status) == ("completed", "pending")
    assert names(queued) == ["bulk_job_callback"]
    queued.clear()
    assert bulk_sweep(clock=later(1)) == {}  # its wake-up is fresh
    assert bulk_sweep(clock=later(orphan_after() + 1)) == {"callbacks": 1}  # ... until it is overdue
    assert names(queued) == ["bulk_job_callback"]


def test_a_worker_killed_mid_job_loses_nothing_and_sends_nothing_twice(chats, queued):
    """Item 0 was sent and recorded; item 1 reached Avito but its worker died before recording it;
    item 2 was claimed and its worker died before sending; items 3-4 lost their wake-ups."""
    from messenger.bulk import tasks

    job = new_job(5)
    items = list(job.items.order_by("index"))
    assert bulk_item_send(item_id=items[0].id) == "sent"
    long_ago = timezone.now() - timedelta(seconds=orphan_after() + 1)
    BulkItem.objects.filter(id__in=[items[1].id, items[2].id]).update(status="sending", claimed_at=long_ago,
                                                                       attempts=1, next_attempt_at=None)
    BulkItem.objects.filter(id__in=[items[3].id, items[4].id]).update(next_attempt_at=long_ago)
    chats._store(None, CHAT, "text", {"text": "n1"})
    chats.history["u2i-y9ykWR1EkNOJJMaE9i9m8w"][-1]["created"] = int(long_ago.timestamp()) + 1
    queued.clear()
    assert bulk_sweep() == {"orphaned": 2, "overdue": 2}
    while queued:  # what the workers do with those wake-ups and any they queue in turn
        name, args, _ = queued.pop(0)
        getattr(tasks, name.rsplit(".", 1)[1]).apply(args)
    assert sorted(m["content"]["text"] for m in chats.sent()) == ["n0", "n1", "n2", "n3", "n4"]
    job.refresh_from_db()
    assert job.status == "completed"
    assert list(job.items.order_by("index").values_list("status", flat=True)) == ["sent"] * 5
    assert len(set(job.items.values_list("message_id", flat=True))) == 5


def test_an_unknown_item_whose_look_was_lost_is_handed_to_the_resolver_again(queued):
    [item] = new_job(1).items.all()
    now = timezone.now()
    BulkItem.objects.filter(id=item.id).update(status="unknown", claimed_at=now, attempts=1,
                                               next_attempt_at=now + timedelta(seconds=5),
                                               settle_by=now + timedelta(seconds=30))
    queued.clear()
    assert bulk_sweep(clock=later(30)) == {}  # its look is due, but may just be running late
    assert bulk_sweep(clock=later(70)) == {"orphaned": 1}
    assert names(queued) == ["bulk_item_resolve"]
    assert bulk_sweep(clock=later(71)) == {}  # woken once, not on every sweep
