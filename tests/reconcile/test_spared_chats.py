"""Chats the chat list spared a call on (their last message stored or delivered from the list) are
remembered and read in full later, on spare room only (reconcile.deferred)."""
from __future__ import annotations

import time
from datetime import timedelta

import pytest

from messenger.models import RateLimitCall
from reconcile.models import DeferredChat, ReconcileState, RunOutcome
from tests.reconcile.conftest import CHATS_URL, NOW, avito_calls, chat, message, messages_url, unix
from tests.webhooks.avito_payloads import notification, post_notification

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("reconcile_settings", "eager")]
WATERMARK = NOW - timedelta(minutes=1)


@pytest.fixture
def watermark():
    ReconcileState.objects.create(id=1, watermark=WATERMARK)
    return WATERMARK


def fill_window(count: int) -> None:
    now = time.time()
    RateLimitCall.objects.bulk_create([RateLimitCall(at=now) for _ in range(count)])


def delivered(n8n) -> list[str]:
    return [body["meta"]["external_message_id"] for body in n8n.bodies()]


def two_in_a_row(avito, client, capture) -> tuple[dict, dict]:
    """A customer writes twice in one interval: the first notification is dropped, the second comes."""
    first = message("m-1", created=NOW - timedelta(seconds=20), text="Здравствуйте")
    second = message("m-2", created=NOW - timedelta(seconds=15), text="Ещё продаёте?")
    avito.get(f"{CHATS_URL}/u2i-a", json=chat("u2i-a", updated=NOW - timedelta(seconds=15), last=second))
    with capture(execute=True):
        post_notification(client, notification(message_id="m-2", created=unix(NOW - timedelta(seconds=15)),
                                               chat_id="u2i-a"))
    avito.get(CHATS_URL, json={"chats": [chat("u2i-a", updated=NOW - timedelta(seconds=15), last=second)],
                               "meta": {"has_more": False}})
    avito.get(messages_url("u2i-a"), json={"messages": [second, first], "meta": {"has_more": False}})
    return first, second


def test_a_dropped_message_followed_by_a_delivered_one_in_the_same_chat_is_found_on_spare_room(
        avito, n8n, run, watermark, client, django_capture_on_commit_callbacks):
    two_in_a_row(avito, client, django_capture_on_commit_callbacks)

    done = run()

    assert delivered(n8n) == ["m-2", "m-1"]  # the webhook's, then the poll's
    assert (done.outcome, done.messages_found, done.calls) == (RunOutcome.OK, 1, 2)
    assert not DeferredChat.objects.exists()


def test_a_busy_window_completes_runs_and_reads_spared_chats_only_once_there_is_room(
        avito, n8n, run, watermark, client, django_capture_on_commit_callbacks, settings, clock):
    settings.RATE_LIMIT_REQUESTS, settings.RECONCILE_INTERVAL = 40, 10  # a cap of 30, a floor of 1 a run
    two_in_a_row(avito, client, django_capture_on_commit_callbacks)
    fill_window(35)  # sends keep the window past the cap: no spare room

    busy = run()

    # The run completes on its floor (the chats page); the spared chat costs nothing from the floor.
    assert (busy.outcome, busy.calls) == (RunOutcome.OK, 1) and ReconcileState.objects.get().watermark == NOW
    assert not avito_calls(avito, messages_url("u2i-a")) and DeferredChat.objects.filter(chat_id="u2i-a").exists()
    assert delivered(n8n) == ["m-2"]

    clock.advance(10)
    again = run()  # as busy: the next window completes too, still without reading it
    assert (again.outcome, again.calls) == (RunOutcome.OK, 1) and not avito_calls(avito, messages_url("u2i-a"))

    RateLimitCall.objects.all().delete()  # the sends paused: spare room again
    clock.advance(10)
    calm = run()
    assert calm.outcome == RunOutcome.OK and len(avito_calls(avito, messages_url("u2i-a"))) == 1
    assert delivered(n8n) == ["m-2", "m-1"] and not DeferredChat.objects.exists()


def test_three_dropped_in_a_chat_whose_previous_message_came_in_the_window_are_all_found(
        avito, n8n, run, watermark, client, django_capture_on_commit_callbacks):
    """The gateway was down while one customer wrote three messages, just after one that came: the
    last is delivered from the chat list, the two before it by reading the chat on spare room."""
    before = NOW - timedelta(seconds=40)
    avito.get(f"{CHATS_URL}/u2i-a", json=chat("u2i-a", updated=before))
    with django_capture_on_commit_callbacks(execute=True):
        post_notification(client, notification(message_id="m-prev", created=unix(before), chat_id="u2i-a"))
    written = [message(f"m-{i}", created=NOW - timedelta(seconds=30 - i)) for i in range(3)]
    avito.get(CHATS_URL, json={"chats": [chat("u2i-a", updated=NOW - timedelta(seconds=28), last=written[-1])],
                               "meta": {"has_more": False}})
    avito.get(messages_url("u2i-a"), json={"messages": written[::-1] + [message("m-prev", created=before)],
                                           "meta": {"has_more": False}})
    done = run()
    assert delivered(n8n) == ["m-prev", "m-2", "m-0", "m-1"]
    assert (done.outcome, done.messages_found) == (RunOutcome.OK, 3)


def test_a_spared_chat_avito_refuses_goes_to_the_back_and_does_not_block_the_others(
        avito, n8n, run, watermark, client, django_capture_on_commit_callbacks, clock):
    two_in_a_row(avito, client, django_capture_on_commit_callbacks)
    DeferredChat.objects.create(chat_id="u2i-gone", chat=chat("u2i-gone", updated=WATERMARK), since=WATERMARK,
                                until=WATERMARK, deferred_at=WATERMARK - timedelta(hours=1))
    avito.get(messages_url("u2i-gone"), status=404, json={"error": {"code": 404, "message": "not found"}})
    first = run()
    # The window closed; the oldest spared chat was refused and went to the back, behind u2i-a.
    assert first.outcome == RunOutcome.OK and "m-1" not in delivered(n8n)
    assert set(DeferredChat.objects.values_list("chat_id", flat=True)) == {"u2i-gone", "u2i-a"}
    assert DeferredChat.objects.get(chat_id="u2i-gone").deferred_at == NOW
    clock.advance(60)
    run()
    assert "m-1" in delivered(n8n)
