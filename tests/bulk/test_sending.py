"""One item's send: the claim, the outcome of each kind of failure, and the check before any resend."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from avitogw.celery import app as celery_app
from bulk.models import BulkItem, BulkJob
from bulk.selectors import bulk_job_progress
from bulk.sending import MAX_ATTEMPTS, bulk_item_resolve, bulk_item_send
from bulk.services import bulk_job_create
from messenger.models import Message

CHAT = "u2i-y9ykWR1EkNOJJMaE9i9m8w"
pytestmark = pytest.mark.django_db(transaction=True)


def job_of(*texts: str, chat: str = CHAT) -> list[BulkItem]:
    job = bulk_job_create(items=[{"kind": "text", "chat_id": chat, "payload": {"text": t}} for t in texts])
    return list(job.items.order_by("index"))


def reload(item: BulkItem) -> BulkItem:
    return BulkItem.objects.get(id=item.id)


def test_only_the_worker_whose_claim_changed_the_row_sends(chats, queued):
    [item] = job_of("hello")
    BulkItem.objects.filter(id=item.id).update(status="sending", claimed_at=timezone.now())
    assert bulk_item_send(item_id=item.id) is None
    assert chats.sent() == []
    BulkItem.objects.filter(id=item.id).update(status="pending")
    assert bulk_item_send(item_id=item.id) == "sent"
    assert bulk_item_send(item_id=item.id) is None  # a duplicate wake-up
    assert len(chats.sent()) == 1
    item = reload(item)
    assert (item.status, item.attempts, item.message_id) == ("sent", 1, chats.sent()[0]["id"])
    assert Message.objects.filter(id=item.message_id, direction="out").exists()


def test_an_item_not_yet_due_is_left_for_its_own_wake_up(chats, queued):
    [item] = job_of("later")
    BulkItem.objects.filter(id=item.id).update(next_attempt_at=timezone.now() + timedelta(minutes=1))
    assert bulk_item_send(item_id=item.id) is None and chats.sent() == []


def test_avito_refusing_an_item_fails_it_with_avitos_words_and_the_job_still_completes(chats, queued):
    job = bulk_job_create(items=[{"kind": "text", "chat_id": "u2i-missing1", "payload": {"text": "hi"}},
                                 {"kind": "text", "chat_id": CHAT, "payload": {"text": "hi"}}])
    bad, good = job.items.order_by("index")
    assert bulk_item_send(item_id=bad.id) == "failed"
    assert reload(bad).error == "Chat not found"
    assert BulkJob.objects.get(id=job.id).status == "running"
    assert bulk_item_send(item_id=good.id) == "sent"
    job.refresh_from_db()
    assert job.status == "completed" and job.finished_at is not None


def test_no_rate_limit_slot_puts_the_item_back_without_spending_an_attempt(chats, queued, settings):
    settings.RATE_LIMIT_REQUESTS, settings.RATE_LIMIT_WINDOW, settings.CONNECTION_TIMEOUT = 2, 60, 0.2
    first, second = job_of("a", "b")
    assert bulk_item_send(item_id=first.id) == "sent"  # the token and this send take the minute's 2 slots
    queued.clear()
    assert bulk_item_send(item_id=second.id) == "pending"
    second = reload(second)
    assert (second.status, second.attempts, second.claimed_at is not None) == ("pending", 0, True)
    assert second.next_attempt_at > timezone.now() + timedelta(seconds=50)
    [(name, args, options)] = queued
    assert (name, args) == ("bulk.tasks.bulk_item_send", (second.id,)) and options["countdown"] > 50
    assert len(chats.sent()) == 1


def test_a_send_that_may_have_arrived_is_unknown_until_the_chat_shows_it(chats, queued, settings):
    settings.MAX_RETRIES, settings.CONNECTION_TIMEOUT = 0, 0.2
    [item] = job_of("are you there?")
    chats.fail_next(500, after_commit=True)  # Avito stored it, then failed the answer
    # The client's own looks during its settle window cannot see it (the history is "down").
    chats.history_down = True
    assert bulk_item_send(item_id=item.id) == "unknown"
    item = reload(item)
    assert item.status == "unknown" and item.error.startswith("outcome unknown")
    assert item.settle_by > timezone.now()
    (name, args, _) = queued[-1]
    assert (name, args) == ("bulk.tasks.bulk_item_resolve", (item.id,))
    progress = bulk_job_progress(job_id=item.job_id)
    assert (progress["status"], progress["pending"], progress["unknown"]) == ("running", 1, 1)
    chats.history_down = False
    assert bulk_item_resolve(item_id=item.id) == "sent"
    item = reload(item)
    assert item.message_id == chats.sent()[0]["id"] and item.error == ""
    assert len(chats.sent()) == 1
    assert BulkJob.objects.get(id=item.job_id).status == "completed"


def test_an_unknown_send_absent_from_the_chat_is_looked_for_until_settle_by_then_failed_never_resent(
        chats, queued, settings):
    settings.MAX_RETRIES, settings.CONNECTION_TIMEOUT = 0, 0.2
    [item] = job_of("lost?")
    chats.fail_next(500)  # refused before storing, but the gateway cannot know that
    assert bulk_item_send(item_id=item.id) == "unknown"
    item = reload(item)
    queued.clear()
    assert bulk_item_resolve(item_id=item.id,
                             clock=lambda: item.settle_by - timedelta(seconds=0.1)) == "unknown"
    [(name, args, options)] = queued
    assert name.endswith("bulk_item_resolve") and options["countdown"] <= 0.1  # never past settle_by
    assert bulk_item_resolve(item_id=item.id,
                             clock=lambda: item.settle_by + timedelta(seconds=0.1)) == "failed"
    item = reload(item)
    assert item.error.startswith("not delivered: Avito did not confirm the send (injected before storing)")
    assert "does not send it again" in item.error
    assert chats.sent() == [] and reload(item).attempts == 1
    progress = bulk_job_progress(job_id=item.job_id)
    assert (progress["status"], progress["failed"], progress["pending"], progress["unknown"]) == \
        ("completed", 1, 0, 0)


def test_a_send_that_never_reached_avito_is_sent_again_after_the_check(chats, queued, settings):
    settings.MAX_RETRIES = 0
    [item] = job_of("second try")
    chats.fail_next("refused")  # no connection was made: certainly not sent
    assert bulk_item_send(item_id=item.id) == "sending"
    assert bulk_item_resolve(item_id=item.id) == "pending"
    assert bulk_item_resolve(item_id=item.id) is None  # settled: nothing left to check
    assert bulk_item_send(item_id=item.id) == "sent"
    assert [m["content"]["text"] for m in chats.sent()] == ["second try"]
    assert reload(item).attempts == 2


def test_the_check_does_not_take_an_earlier_copy_for_this_one(chats, queued):
    first, second = job_of("same text", "same text")
    assert bulk_item_send(item_id=first.id) == "sent"
    # The second item's worker died right after claiming it, before sending.
    claimed_at = timezone.now()
    BulkItem.objects.filter(id=second.id).update(status="sending", claimed_at=claimed_at, attempts=1)
    assert bulk_item_resolve(item_id=second.id) == "pending"
    assert bulk_item_send(item_id=second.id) == "sent"
    assert len(chats.sent()) == 2
    assert reload(first).message_id != reload(second).message_id


def test_an_image_whose_worker_died_after_sending_is_found_by_kind(chats, queued):
    job = bulk_job_create(items=[{"kind": "image", "chat_id": CHAT, "payload": {"image_id": "1.a"}}])
    [item] = job.items.all()
    claimed_at = timezone.now() - timedelta(seconds=1)
    BulkItem.objects.filter(id=item.id).update(status="sending", claimed_at=claimed_at, attempts=1)
    chats._store(None, CHAT, "image", {"image": {"sizes": {}}})  # what the dead worker got Avito to store
    assert bulk_item_resolve(item_id=item.id) == "sent"
    assert reload(item).message_id == chats.sent()[0]["id"]
    assert BulkJob.objects.get(id=job.id).status == "completed"


def test_an_item_that_keeps_failing_is_failed_after_the_last_attempt(chats, queued, settings):
    settings.MAX_RETRIES = 0
    [item] = job_of("doomed")
    for attempt in range(1, MAX_ATTEMPTS + 1):
        chats.fail_next("refused")
        assert bulk_item_send(item_id=item.id) == "sending"
        expected = "failed" if attempt == MAX_ATTEMPTS else "pending"
        assert bulk_item_resolve(item_id=item.id) == expected
        BulkItem.objects.filter(id=item.id).update(next_attempt_at=None)
    item = reload(item)
    assert item.status == "failed" and item.error.startswith(f"gave up after {MAX_ATTEMPTS} attempts")
    assert chats.sent() == []


def test_a_link_item_is_checked_by_the_exact_text_it_became(chats, queued):
    job = bulk_job_create(items=[{"kind": "link", "chat_id": CHAT,
                                  "payload": {"url": "https://e.com/a", "text": "See"}}])
    [item] = job.items.all()
    claimed_at = timezone.now()
    BulkItem.objects.filter(id=item.id).update(status="sending", claimed_at=claimed_at, attempts=1)
    chats._store(None, CHAT, "text", {"text": "See\nhttps://e.com/a"})
    assert bulk_item_resolve(item_id=item.id) == "sent"


def test_bulk_sends_have_a_queue_of_their_own_which_a_plain_worker_also_consumes():
    """So incoming messages take turns with a campaign instead of waiting behind all of it."""
    route = celery_app.amqp.router.route
    bulk = route({}, "bulk.tasks.bulk_item_send")["queue"]
    default = route({}, "webhooks.tasks.delivery_attempt")["queue"]
    assert (bulk.name, default.name) == ("bulk", "celery")
    assert bulk.routing_key != default.routing_key  # one wake-up lands in one queue, not both
    assert route({}, "bulk.tasks.bulk_item_resolve")["queue"].name == "bulk"
    assert set(celery_app.amqp.queues.consume_from) == {"celery", "bulk"}


def test_an_image_url_the_single_send_would_refuse_fails_the_item_with_the_reason(chats, queued, settings):
    settings.IMAGE_URL_ALLOW_PRIVATE = False
    job = bulk_job_create(items=[{"kind": "image", "chat_id": CHAT,
                                  "payload": {"image_url": "http://127.0.0.1/inside.png"}}])
    [item] = job.items.all()
    assert bulk_item_send(item_id=item.id) == "failed"
    error = reload(item).error
    assert error.startswith("image_url: ") and "127.0.0.1" in error
    assert chats.sent() == []


def test_a_check_that_cannot_reach_avito_is_tried_again_later_with_longer_pauses(chats, queued):
    [item] = job_of("unknown")
    claimed_at = timezone.now() - timedelta(seconds=8)
    BulkItem.objects.filter(id=item.id).update(status="sending", claimed_at=claimed_at, attempts=1)
    chats.history_down = True
    queued.clear()
    assert bulk_item_resolve(item_id=item.id) == "sending"
    [(name, args, options)] = queued
    assert name.endswith("bulk_item_resolve") and 7 < options["countdown"] < 30  # as long again as it has waited
    assert reload(item).next_attempt_at > timezone.now() + timedelta(seconds=6)
    assert chats.sent() == []
