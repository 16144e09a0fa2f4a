"""A reconciliation run, seen from outside: Avito's lists in, events, deliveries to n8n and the run's row out."""
from __future__ import annotations

from datetime import timedelta

import pytest
from responses import matchers

from messenger.models import Chat, Message
from reconcile.models import DeferredChat, ReconcileRun, ReconcileState, RunOutcome
from reconcile.services import OVERLAP
from tests.reconcile.conftest import (CHATS_URL, NOW, avito_calls, chat, message, messages_url, unix)
from tests.conftest import USER_ID
from tests.webhooks.avito_payloads import N8N_URL, avito_message, notification, post_notification
from webhooks.models import Delivery, EventSource, IncomingEvent

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("reconcile_settings", "eager")]
WATERMARK = NOW - timedelta(minutes=1)


@pytest.fixture
def watermark():
    ReconcileState.objects.create(id=1, watermark=WATERMARK)
    return WATERMARK


def test_the_first_start_sets_the_watermark_to_now_and_reads_nothing(avito, run):
    done = run()
    assert done.outcome == RunOutcome.STARTED and done.watermark == NOW
    assert ReconcileState.objects.get().watermark == NOW
    assert not avito_calls(avito, CHATS_URL)  # no history is read, so none is delivered
    assert IncomingEvent.objects.count() == 0


def test_a_message_whose_notification_never_came_is_delivered_from_the_chat_list_with_source_poll(
        avito, n8n, run, watermark, client, django_capture_on_commit_callbacks):
    new_at, before = NOW - timedelta(seconds=20), NOW - timedelta(seconds=40)
    lost = message("m-new", created=new_at, text="Ещё продаёте?")
    # The customer's previous message, in the window, came by webhook: only the last can be missing.
    avito.get(f"{CHATS_URL}/u2i-a", json=chat("u2i-a", updated=before))
    with django_capture_on_commit_callbacks(execute=True):
        post_notification(client, notification(message_id="m-prev", created=unix(before), chat_id="u2i-a"))
    avito.get(CHATS_URL, json={"chats": [chat("u2i-a", updated=new_at, last=lost)], "meta": {"has_more": False}})
    avito.get(messages_url("u2i-a"), json={"messages": [lost, message("m-prev", created=before)],
                                           "meta": {"has_more": False}})

    done = run()

    [_, body] = n8n.bodies()
    assert body["event_id"] == "avito-msg-m-new" and body["text"] == "Ещё продаёте?"
    assert body["meta"]["source"] == "poll" and body["meta"]["direction"] == "in"
    assert body["client_name"] == "Guldan" and body["external_user_id"] == "94235311"
    assert body["meta"]["ad_id"] == 1768287444 and body["timestamp"] == new_at.isoformat()
    event = IncomingEvent.objects.get(message_id="m-new")
    assert (event.message_id, event.source, event.chat_id) == ("m-new", EventSource.POLL, "u2i-a")
    # Stored as the notification Avito would have sent (avito-api.md §5.4), field for field.
    assert event.raw["payload"]["type"] == "message"
    assert set(event.raw["payload"]["value"]) == set(avito_message())
    assert event.raw["payload"]["value"]["user_id"] == USER_ID and event.raw["payload"]["value"]["item_id"] == 1768287444
    # Its only new message is the chat's last_message: delivered from the chat list, no messages call
    # in the window. (Without the previous message stored, older ones might be missing too: the chat
    # would be read.) The chat is remembered, and read once the window closed, on spare room.
    assert (done.outcome, done.chats_seen, done.messages_found, done.calls) == (RunOutcome.OK, 1, 1, 2)
    assert len(avito_calls(avito, messages_url("u2i-a"))) == 1 and not DeferredChat.objects.exists()
    assert done.since == watermark - OVERLAP and done.watermark == NOW
    assert ReconcileState.objects.get().watermark == NOW
    # The admin lists the chat read, with its client, and the message.
    assert Chat.objects.get(id="u2i-a").client_name == "Guldan"
    assert Message.objects.get(id="m-new").direction == "in"


def test_paging_stops_at_the_first_chat_older_than_the_watermark(avito, n8n, run, watermark):
    fresh, stale = NOW - timedelta(seconds=5), watermark - OVERLAP - timedelta(seconds=1)
    avito.get(CHATS_URL, json={"chats": [chat("u2i-fresh", updated=fresh), chat("u2i-stale", updated=stale)],
                               "meta": {"has_more": True}})
    avito.get(messages_url("u2i-fresh"), json={"messages": [], "meta": {"has_more": False}})

    done = run()

    assert len(avito_calls(avito, CHATS_URL)) == 1
    assert not avito_calls(avito, messages_url("u2i-stale"))
    assert done.chats_seen == 1 and done.calls == 2


def test_an_idle_account_costs_one_chats_call(avito, run, watermark):
    avito.get(CHATS_URL, json={"chats": [chat("u2i-old", updated=watermark - timedelta(hours=2))],
                               "meta": {"has_more": True}},
              match=[matchers.query_param_matcher({"chat_types": "u2i,u2u,a2u", "limit": "100", "offset": "0"})])
    done = run()
    assert (done.outcome, done.calls, done.chats_seen, done.messages_found) == (RunOutcome.OK, 1, 0, 0)


def test_a_chat_near_a_missed_notification_is_read_back_to_the_window_start_page_by_page(
        avito, n8n, run, watermark):
    # u2i-z's last message has no event: a notification was missed at that moment (a drop, an
    # outage), so the other chats written to since may hide missed messages older than their last.
    missed_at = NOW - timedelta(seconds=30)
    avito.get(CHATS_URL, json={"chats": [chat("u2i-a", updated=NOW, last=message("m-0", created=NOW)),
                                         chat("u2i-z", updated=missed_at, last=message("m-z", created=missed_at))],
                               "meta": {"has_more": False}})
    newest = [message(f"m-{i}", created=NOW - timedelta(seconds=i)) for i in range(20)]
    older = [message("m-20", created=NOW - timedelta(seconds=20)),
             message("m-history", created=watermark - OVERLAP - timedelta(seconds=1))]
    avito.get(messages_url("u2i-a"), json={"messages": newest, "meta": {"has_more": True}},
              match=[matchers.query_param_matcher({"limit": "20", "offset": "0"})])
    avito.get(messages_url("u2i-a"), json={"messages": older, "meta": {"has_more": True}},
              match=[matchers.query_param_matcher({"limit": "20", "offset": "20"})])

    avito.get(messages_url("u2i-z"), json={"messages": [message("m-z", created=missed_at)], "meta": {"has_more": False}})

    done = run()

    assert done.messages_found == 22 and done.calls == 4  # the chats page, u2i-z's page and u2i-a's two
    # Oldest first, as they were written; the message from before the window is left alone.
    assert [body["meta"]["external_message_id"] for body in n8n.bodies()] == (
        ["m-z"] + [f"m-{i}" for i in range(20, -1, -1)])


def test_a_chat_whose_last_message_the_webhook_brought_costs_no_call(avito, n8n, run, watermark, client,
                                                                     django_capture_on_commit_callbacks):
    at = NOW - timedelta(seconds=10)
    both = message("m-both", created=at)
    avito.get(f"{CHATS_URL}/u2i-a", json=chat("u2i-a", updated=at, last=both))
    with django_capture_on_commit_callbacks(execute=True):
        post_notification(client, notification(message_id="m-both", created=unix(at), chat_id="u2i-a"))
    avito.get(CHATS_URL, json={"chats": [chat("u2i-a", updated=at, last=both)], "meta": {"has_more": False}})
    avito.get(messages_url("u2i-a"), json={"messages": [both], "meta": {"has_more": False}})

    done = run()

    # No call in the window: the chats page; the chat is read on spare room once the window closed.
    assert done.messages_found == 0 and done.calls == 2 and len(avito_calls(avito, messages_url("u2i-a"))) == 1
    assert [body["meta"]["source"] for body in n8n.bodies()] == ["webhook"]
    assert Delivery.objects.count() == 1


def test_a_webhook_after_the_poll_is_a_duplicate(avito, n8n, run, watermark, client,
                                                 django_capture_on_commit_callbacks):
    at = NOW - timedelta(seconds=10)
    avito.get(CHATS_URL, json={"chats": [chat("u2i-a", updated=at, last=message("m-both", created=at))],
                               "meta": {"has_more": False}})
    avito.get(messages_url("u2i-a"), json={"messages": [message("m-both", created=at)], "meta": {"has_more": False}})
    run()
    with django_capture_on_commit_callbacks(execute=True):
        answer = post_notification(client, notification(message_id="m-both", created=unix(at), chat_id="u2i-a"))

    assert answer.status_code == 200
    assert [body["meta"]["source"] for body in n8n.bodies()] == ["poll"]
    assert IncomingEvent.objects.get().repeats == 1


def test_the_accounts_own_messages_are_stored_as_outgoing_not_delivered(avito, n8n, run, watermark):
    at = NOW - timedelta(seconds=10)
    own = message("m-own", created=at, own=True, text="Да, продаём")
    avito.get(CHATS_URL, json={"chats": [chat("u2i-a", updated=at, last=own)], "meta": {"has_more": False}})
    avito.get(messages_url("u2i-a"), json={"messages": [own], "meta": {"has_more": False}})
    done = run()
    assert done.messages_found == 1 and not n8n.bodies()
    assert Message.objects.get(id="m-own").direction == "out"
    assert "own message" in IncomingEvent.objects.get().note


def test_own_messages_are_delivered_with_forward_own_messages(avito, n8n, run, watermark, settings):
    settings.FORWARD_OWN_MESSAGES = True
    at = NOW - timedelta(seconds=10)
    own = message("m-own", created=at, own=True)
    avito.get(CHATS_URL, json={"chats": [chat("u2i-a", updated=at, last=own)], "meta": {"has_more": False}})
    avito.get(messages_url("u2i-a"), json={"messages": [own], "meta": {"has_more": False}})
    run()
    [body] = n8n.bodies()
    assert body["meta"]["direction"] == "out" and body["meta"]["source"] == "poll"


def test_an_avito_failure_leaves_the_cursor_at_the_last_chat_finished_and_the_next_run_resumes_there(
        avito, n8n, run, watermark, clock):
    first, second = NOW - timedelta(seconds=40), NOW - timedelta(seconds=10)
    # Both chats' last notifications were missed (an outage): each chat is read in full.
    avito.get(CHATS_URL, json={"chats": [chat("u2i-b", updated=second),
                                         chat("u2i-a", updated=first, last=message("m-a", created=first))],
                               "meta": {"has_more": False}})
    avito.get(messages_url("u2i-a"), json={"messages": [message("m-a", created=first)], "meta": {"has_more": False}})
    avito.get(messages_url("u2i-b"), status=500, json={"error": {"code": 500, "message": "Internal error"}})
    avito.get(messages_url("u2i-b"), json={"messages": [message("u2i-b-last", created=second),
                                                        message("m-b", created=second)], "meta": {"has_more": False}})

    done = run()

    assert done.outcome == RunOutcome.ERROR and "Internal error" in done.error
    assert done.messages_found == 1 and done.chats_seen == 1
    assert [body["meta"]["external_message_id"] for body in n8n.bodies()] == ["m-a"]
    state = ReconcileState.objects.get()
    assert state.watermark == watermark and (state.cursor_updated, state.cursor_chat_id) == (unix(first), "u2i-a")

    clock.advance(60)
    again = run()

    # The same window, from the cursor: no chats page again, u2i-a not again, the overlap not again.
    assert (again.outcome, again.since, again.chats_seen, again.calls) == (RunOutcome.OK, done.since, 1, 1)
    assert [body["meta"]["external_message_id"] for body in n8n.bodies()] == ["m-a", "m-b", "u2i-b-last"]
    assert len(avito_calls(avito, CHATS_URL)) == 1
    assert ReconcileState.objects.get().watermark == NOW  # the window's end: when it was opened


def test_a_crash_mid_run_leaves_the_watermark_and_is_recorded(avito, run, watermark, monkeypatch):
    at = NOW - timedelta(seconds=10)
    avito.get(CHATS_URL, json={"chats": [chat("u2i-a", updated=at)], "meta": {"has_more": False}})
    avito.get(messages_url("u2i-a"), json={"messages": [message("u2i-a-last", created=at)],
                                           "meta": {"has_more": False}})
    monkeypatch.setattr("reconcile.poller.event_receive", lambda **kwargs: 1 / 0)

    with pytest.raises(ZeroDivisionError):
        run()

    assert ReconcileState.objects.get().watermark == watermark
    assert ReconcileState.objects.get().lease_owner == ""
    recorded = ReconcileRun.objects.get()
    assert recorded.outcome == RunOutcome.ERROR and "ZeroDivisionError" in recorded.error
    assert (recorded.calls, recorded.chats_seen) == (2, 0)


def test_an_explicit_window_delivers_history_and_moves_the_watermark_forward(avito, n8n, run):
    old = NOW - timedelta(hours=3)
    avito.get(CHATS_URL, json={"chats": [chat("u2i-a", updated=old, last=message("m-a", created=old))],
                               "meta": {"has_more": False}})
    avito.get(messages_url("u2i-a"), json={"messages": [message("m-a", created=old)], "meta": {"has_more": False}})

    done = run(trigger="command", since=NOW - timedelta(hours=4))

    assert done.outcome == RunOutcome.OK and done.messages_found == 1
    assert [body["meta"]["source"] for body in n8n.bodies()] == ["poll"]
    assert ReconcileState.objects.get().watermark == NOW


def test_n8n_down_means_a_pending_delivery_not_a_lost_message(avito, run, watermark):
    at = NOW - timedelta(seconds=10)
    avito.post(N8N_URL, status=500)
    avito.get(CHATS_URL, json={"chats": [chat("u2i-a", updated=at, last=message("m-a", created=at))],
                               "meta": {"has_more": False}})
    avito.get(messages_url("u2i-a"), json={"messages": [message("m-a", created=at)], "meta": {"has_more": False}})
    run()
    delivery = Delivery.objects.get()
    assert delivery.status == "pending" and delivery.attempts == 1 and delivery.event_id == "avito-msg-m-a"


def test_what_was_written_just_before_the_first_start_stays_history(avito, n8n, run, clock):
    before = NOW - timedelta(seconds=5)  # inside the overlap, but before the gateway's first start
    run()
    clock.advance(60)
    after = clock.now - timedelta(seconds=10)
    avito.get(CHATS_URL, json={"chats": [chat("u2i-a", updated=after, last=message("m-after", created=after))],
                               "meta": {"has_more": False}})
    avito.get(messages_url("u2i-a"), json={"messages": [message("m-after", created=after),
                                                        message("m-before", created=before)],
                                           "meta": {"has_more": False}})
    done = run()
    assert done.since == NOW
    assert [body["meta"]["external_message_id"] for body in n8n.bodies()] == ["m-after"]


def test_after_an_outage_a_chat_whose_last_message_came_is_read_for_the_ones_before_it(
        avito, n8n, run, watermark, client, django_capture_on_commit_callbacks):
    """The gateway was down: u2i-b's, u2i-d's and u2i-e's messages were missed and nothing came after
    them; u2i-a's was missed too, but its customer wrote again once the gateway was back, and that
    one came."""
    outage, back = NOW - timedelta(seconds=40), NOW - timedelta(seconds=10)
    again = message("m-a-again", created=back)
    avito.get(f"{CHATS_URL}/u2i-a", json=chat("u2i-a", updated=back, last=again))
    with django_capture_on_commit_callbacks(execute=True):
        post_notification(client, notification(message_id="m-a-again", created=unix(back), chat_id="u2i-a"))
    avito.get(CHATS_URL, json={"chats": [chat("u2i-a", updated=back, last=again),
                                         chat("u2i-b", updated=outage, last=message("m-b", created=outage)),
                                         chat("u2i-d", updated=outage, last=message("m-d", created=outage)),
                                         chat("u2i-e", updated=outage, last=message("m-e", created=outage)),
                                         chat("u2i-c", updated=outage - timedelta(seconds=5))],
                               "meta": {"has_more": False}})
    avito.get(messages_url("u2i-a"), json={"messages": [again, message("m-a", created=outage)],
                                           "meta": {"has_more": False}})
    for chat_id in ("u2i-b", "u2i-d", "u2i-e"):
        avito.get(messages_url(chat_id), json={"messages": [message(f"m-{chat_id[-1]}", created=outage)],
                                               "meta": {"has_more": False}})
    IncomingEvent.objects.create(message_id="u2i-c-last", chat_id="u2i-c", raw={}, next_attempt_at=NOW, status="done")
    avito.get(messages_url("u2i-c"), json={"messages": [message("u2i-c-last", created=outage - timedelta(seconds=5))],
                                           "meta": {"has_more": False}})

    done = run()

    # u2i-c's last message came before the missed ones: nothing to read in the window (it is read
    # once the window closed, on spare room). u2i-b's, -d's, -e's last are missed, with others: read
    # (nothing more there). u2i-a's last came after three missed ones (an outage): read, and the
    # message before it found.
    assert [call.request.url.split("?")[0] for call in avito.calls if "/messages/" in call.request.url] == [
        messages_url("u2i-b"), messages_url("u2i-d"), messages_url("u2i-e"), messages_url("u2i-a"),
        messages_url("u2i-c")]
    assert [body["meta"]["external_message_id"] for body in n8n.bodies()] == ["m-a-again", "m-b", "m-d", "m-e", "m-a"]
    assert (done.outcome, done.calls, done.messages_found, done.chats_seen) == (RunOutcome.OK, 6, 4, 5)


def test_a_chat_that_jumps_to_the_top_while_the_list_is_paged_is_listed_all_the_same(avito, n8n, run, watermark):
    """Avito pages by offset, newest first: u2i-x, written to between the two pages, moved from the
    second page to the top, already read. The listing reads the top again for it."""
    others = [chat(f"u2i-{i:03}", updated=NOW - timedelta(seconds=10 + i % 50)) for i in range(149)]
    IncomingEvent.objects.bulk_create([IncomingEvent(message_id=c["last_message"]["id"], chat_id=c["id"], raw={},
                                                     next_attempt_at=NOW, status="done") for c in others])
    missed = chat("u2i-missed", updated=NOW - timedelta(seconds=5))  # its notification never came
    others = sorted(others + [missed], key=lambda c: (c["updated"], c["id"]), reverse=True)
    hidden_at, moved_at = NOW - timedelta(seconds=30), NOW + timedelta(seconds=2)
    moved = chat("u2i-x", updated=moved_at, last=message("m-x-2", created=moved_at))
    page = {"chat_types": "u2i,u2u,a2u", "limit": "100"}
    avito.get(CHATS_URL, json={"chats": others[:100], "meta": {"has_more": True}},
              match=[matchers.query_param_matcher({**page, "offset": "0"})])
    avito.get(CHATS_URL, json={"chats": others[100:], "meta": {"has_more": False}},  # u2i-x is gone from here
              match=[matchers.query_param_matcher({**page, "offset": "100"})])
    avito.get(CHATS_URL, json={"chats": [moved] + others[:99], "meta": {"has_more": True}},
              match=[matchers.query_param_matcher({**page, "offset": "0"})])
    avito.get(messages_url("u2i-x"), json={"messages": [message("m-x-2", created=moved_at),
                                                        message("m-x-1", created=hidden_at)],
                                           "meta": {"has_more": False}})
    avito.get(messages_url("u2i-missed"), json={"messages": [missed["last_message"]], "meta": {"has_more": False}})
    for each in others:
        if each is not missed:  # spared in the window, read once it closed on spare room: nothing hidden
            avito.get(messages_url(each["id"]), json={"messages": [each["last_message"]], "meta": {"has_more": False}})

    done = run()

    # u2i-missed's notification was missed too, so u2i-x, new since, is read in full.
    assert [body["meta"]["external_message_id"] for body in n8n.bodies()] == ["u2i-missed-last", "m-x-1", "m-x-2"]
    assert len(avito_calls(avito, CHATS_URL + "?")) == 3
    spared = sum(len(avito_calls(avito, messages_url(each["id"]))) for each in others if each is not missed)
    assert (done.outcome, done.chats_seen, done.calls - spared) == (RunOutcome.OK, 151, 5)
    assert spared + DeferredChat.objects.count() == 149  # what spare room did not cover waits for more


def test_a_lone_chat_with_several_missed_messages_is_read_for_all_of_them(avito, n8n, run, watermark):
    """The gateway was down while one customer wrote three messages: only the last is in the chat
    list, and nothing of the chat is stored, so the chat is read."""
    written = [message(f"m-{i}", created=NOW - timedelta(seconds=30 - i)) for i in range(3)]
    avito.get(CHATS_URL, json={"chats": [chat("u2i-a", updated=NOW - timedelta(seconds=28), last=written[-1])],
                               "meta": {"has_more": False}})
    avito.get(messages_url("u2i-a"), json={"messages": written[::-1], "meta": {"has_more": False}})
    done = run()
    assert [body["meta"]["external_message_id"] for body in n8n.bodies()] == ["m-0", "m-1", "m-2"]
    assert done.calls == 2


def test_a_message_written_in_the_second_of_the_first_start_is_not_taken_for_history(avito, n8n, run, clock):
    """Avito stamps whole seconds: the first start at 17:30:00.6 and a message stamped 17:30:00 may
    be either side of it. It is delivered (a history message of that second too, at worst)."""
    clock.now = NOW + timedelta(microseconds=600_000)
    run()
    clock.advance(60)
    avito.get(CHATS_URL, json={"chats": [chat("u2i-a", updated=NOW, last=message("m-same-second", created=NOW))],
                               "meta": {"has_more": False}})
    avito.get(messages_url("u2i-a"), json={"messages": [message("m-same-second", created=NOW)],
                                           "meta": {"has_more": False}})
    done = run()
    assert [body["meta"]["external_message_id"] for body in n8n.bodies()] == ["m-same-second"]
    assert done.messages_found == 1
