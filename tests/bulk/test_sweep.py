"""Bulk work on the engine's sweep: lost wake-ups re-sent once per grace, dead workers' items
checked against the chat before any resend, stalled jobs ended, callbacks handed on."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from core.work.leases import LEASE
from core.work.sweep import work_sweep
from bulk.models import BulkItem, BulkJob
from bulk.sending import SENDS, bulk_item_send
from bulk.services import bulk_job_create

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


def bulk_only(done: dict) -> dict:
    return {kind: count for kind, count in done.items() if kind.startswith("bulk")}


def test_a_fresh_job_is_left_alone(queued):
    new_job(3)
    queued.clear()
    assert bulk_only(work_sweep()) == {} and queued == []


def test_lost_wake_ups_are_sent_again_once_per_grace(queued):
    job = new_job(3)
    queued.clear()
    grace = SENDS.grace.total_seconds()
    assert bulk_only(work_sweep(clock=later(grace + 1))) == {"bulk sends woken": 3}
    assert sorted(args[0] for _, args, _ in queued) == sorted(job.items.values_list("id", flat=True))
    assert all(options["time_limit"] >= 10 for _, _, options in queued)
    queued.clear()
    assert bulk_only(work_sweep(clock=later(grace + 2))) == {} and queued == []  # just woken: not again
    assert bulk_only(work_sweep(clock=later(2 * grace + 3))) == {"bulk sends woken": 3}


def test_an_item_whose_sender_died_is_checked_once_its_lease_runs_out_not_sent(queued):
    job = new_job(1)
    [item] = job.items.all()
    now = timezone.now()
    BulkItem.objects.filter(id=item.id).update(status="sending", claimed_at=now, next_attempt_at=None,
                                               lease_owner="dead-worker:1", lease_expires=now + LEASE)
    queued.clear()
    assert bulk_only(work_sweep(clock=later(LEASE.total_seconds() - 1))) == {}  # its sender may be alive
    assert bulk_only(work_sweep(clock=later(LEASE.total_seconds() + 1))) == {
        "bulk sends taken back": 1, "bulk checks woken": 1}
    assert queued == [("bulk.tasks.bulk_item_resolve", (item.id,), queued[0][2])]
    item.refresh_from_db()
    assert (item.status, item.lease_owner, item.error) == (
        "sending", "", "the worker stopped mid-send: checking the chat before any resend")
    queued.clear()
    assert bulk_only(work_sweep(clock=later(LEASE.total_seconds() + 2))) == {}


def test_a_live_sender_keeps_its_item_however_long_the_send_takes(queued):
    """Its heartbeat renews the lease: the sweep sees a lease in the future, and leaves it."""
    from core.work.leases import leases_renew

    job = new_job(1)
    [item] = job.items.all()
    BulkItem.objects.filter(id=item.id).update(status="sending", lease_owner="live:1",
                                               lease_expires=timezone.now() + LEASE)
    for minute in range(1, 4):
        leases_renew(BulkItem, ["live:1"], now=later(60 * minute)())
        assert bulk_only(work_sweep(clock=later(60 * minute + 5))) == {}
    assert BulkItem.objects.get(id=item.id).lease_owner == "live:1"


def test_pending_items_of_a_cancelled_job_are_cancelled_and_the_job_ends(queued):
    job = new_job(2)
    BulkJob.objects.filter(id=job.id).update(status="cancelled")  # as if cancel died halfway
    assert bulk_only(work_sweep()) == {"bulk jobs tidied": 3}  # two items cancelled, one job ended
    job.refresh_from_db()
    assert job.finished_at is not None and set(job.items.values_list("status", flat=True)) == {"cancelled"}


def test_a_job_whose_last_finisher_died_is_ended_and_its_callback_woken(queued):
    job = new_job(1, callback_url="https://n8n.example.com/hook")
    BulkItem.objects.filter(job=job).update(status="sent", message_id="m-1", finished_at=timezone.now())
    queued.clear()
    assert bulk_only(work_sweep()) == {"bulk jobs tidied": 1}
    job.refresh_from_db()
    assert (job.status, job.callback_status) == ("completed", "pending")
    assert names(queued) == ["bulk_job_callback"]
    queued.clear()
    assert bulk_only(work_sweep(clock=later(1))) == {}  # its wake-up is fresh
    assert bulk_only(work_sweep(clock=later(11))) == {"bulk callbacks woken": 1}  # ... until it is overdue
    assert names(queued) == ["bulk_job_callback"]


def test_a_callback_whose_poster_died_is_handed_on(queued):
    job = new_job(1, callback_url="https://n8n.example.com/hook")
    BulkJob.objects.filter(id=job.id).update(callback_status="sending", lease_owner="dead:7",
                                             lease_expires=timezone.now())
    queued.clear()
    assert bulk_only(work_sweep(clock=later(1))) == {"bulk callbacks taken back": 1, "bulk callbacks woken": 1}
    assert BulkJob.objects.get(id=job.id).callback_status == "pending"
    assert names(queued) == ["bulk_job_callback"]


def test_a_worker_killed_mid_job_loses_nothing_and_sends_nothing_twice(chats, queued):
    """Item 0 was sent and recorded; item 1 reached Avito but its worker died before recording it;
    item 2 was claimed and its worker died before sending; items 3-4 lost their wake-ups."""
    from bulk import tasks

    job = new_job(5)
    items = list(job.items.order_by("index"))
    assert bulk_item_send(item_id=items[0].id) == "sent"
    long_ago = timezone.now() - timedelta(seconds=120)
    BulkItem.objects.filter(id__in=[items[1].id, items[2].id]).update(
        status="sending", claimed_at=long_ago, attempts=1, next_attempt_at=None, lease_owner="dead:1",
        lease_expires=long_ago + LEASE)
    BulkItem.objects.filter(id__in=[items[3].id, items[4].id]).update(next_attempt_at=long_ago)
    chats._store(None, CHAT, "text", {"text": "n1"})
    chats.history["u2i-y9ykWR1EkNOJJMaE9i9m8w"][-1]["created"] = int(long_ago.timestamp()) + 1
    queued.clear()
    assert bulk_only(work_sweep()) == {"bulk sends taken back": 2, "bulk checks woken": 2, "bulk sends woken": 2}
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
    assert work_sweep(clock=later(10)) == {}  # its look is due, but may just be running late
    assert work_sweep(clock=later(30)) == {"bulk checks woken": 1}
    assert names(queued) == ["bulk_item_resolve"]
    assert work_sweep(clock=later(31)) == {}  # woken once per grace, not on every sweep
