"""Delivery to n8n: signed POSTs, backoff after failures, `failed` at the end, kept without a URL."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
import requests
import responses
from standardwebhooks import Webhook

from messenger.normalizer import normalize_message
from tests.conftest import USER_ID
from tests.webhooks.avito_payloads import CHAT_ID, N8N_URL, VOICE_URL, avito_message
from core.work.leases import LEASE
from core.work.sweep import work_sweep
from webhooks.delivery import NO_URL, deliveries_create, deliveries_post, delivery_attempt
from webhooks.models import Delivery, DeliveryStatus

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("n8n_settings")]

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
T0 = datetime(2025, 12, 1, 17, 30, tzinfo=timezone.utc)
OWNER = "drain-test:1"  # the lease of the drain that processed the event


def at(seconds: float):
    return lambda: T0 + timedelta(seconds=seconds)


def delivery_create(*, event, payload: dict, owner: str, clock) -> Delivery | None:
    """One delivery, as the processing worker creates a batch of them; None when it exists already."""
    return next(iter(deliveries_create(events=[event], payloads=[payload], owner=owner, clock=clock).values()), None)


def a_delivery(message_id="m-1", clock=at(0)) -> Delivery | None:
    payload = normalize_message(avito_message(message_id=message_id, content={"text": "Привет"}),
                                account_user_id=USER_ID, chat_id=CHAT_ID, chat_type="u2i", ad_id=1,
                                client_user_id=None, client_name="Guldan")
    return delivery_create(event=None, payload=payload, owner=OWNER, clock=clock)


def first_attempt(delivery: Delivery, **kwargs) -> Delivery:
    """The attempt the processing worker makes straight after creating the delivery; the row after it."""
    deliveries_post([delivery], owner=OWNER, **kwargs)
    delivery.refresh_from_db()
    return delivery


@pytest.fixture
def n8n():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def test_a_delivery_is_posted_signed_per_standard_webhooks(n8n, settings):
    settings.N8N_WEBHOOK_SECRET = SECRET
    n8n.post(N8N_URL, json={"ok": True})
    now = datetime.now(timezone.utc)
    delivery = a_delivery(clock=lambda: now)
    assert (delivery.status, delivery.attempts, delivery.lease_owner, delivery.lease_expires) == (
        DeliveryStatus.DELIVERING, 1, OWNER, now + LEASE)  # created leased to its creator: nobody else posts it

    result = first_attempt(delivery, clock=lambda: now)

    [call] = n8n.calls
    request = call.request
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["webhook-id"] == "avito-msg-m-1"
    assert request.headers["webhook-timestamp"] == str(int(now.timestamp()))
    verified = Webhook(SECRET).verify(request.body, dict(request.headers))  # raises on a bad signature
    assert verified["event_id"] == "avito-msg-m-1"
    assert verified["text"] == "Привет"
    assert (result.status, result.attempts, result.last_status_code) == (DeliveryStatus.DELIVERED, 1, 200)
    assert result.delivered_at == now
    assert (result.lease_owner, result.lease_expires) == ("", None)


def test_without_a_secret_there_is_no_signature_header(n8n):
    n8n.post(N8N_URL, json={"ok": True})
    first_attempt(a_delivery(), clock=at(0))
    headers = n8n.calls[0].request.headers
    assert "webhook-signature" not in headers
    assert headers["webhook-id"] == "avito-msg-m-1"


def test_a_failure_is_recorded_and_retried_after_the_backoff_with_the_same_id(n8n, settings):
    settings.N8N_WEBHOOK_SECRET = SECRET
    n8n.post(N8N_URL, status=500, body="workflow crashed")
    delivery = a_delivery()

    failed = first_attempt(delivery, clock=at(0), rand=lambda: 0.5)
    assert (failed.status, failed.attempts, failed.last_status_code) == (DeliveryStatus.PENDING, 1, 500)
    assert failed.last_error == "n8n answered HTTP 500: workflow crashed"
    assert failed.next_attempt_at == T0 + timedelta(seconds=15)  # base 10 * (1 + 0.5)

    assert delivery_attempt(delivery_pk=delivery.pk, clock=at(14)) is None  # not due yet: nothing sent
    assert len(n8n.calls) == 1

    n8n.replace(responses.POST, N8N_URL, json={"ok": True})
    delivered = delivery_attempt(delivery_pk=delivery.pk, clock=at(15))
    assert (delivered.status, delivered.attempts, delivered.last_error) == (DeliveryStatus.DELIVERED, 2, "")
    ids = [call.request.headers["webhook-id"] for call in n8n.calls]
    stamps = [call.request.headers["webhook-timestamp"] for call in n8n.calls]
    assert ids == ["avito-msg-m-1", "avito-msg-m-1"]
    assert stamps[0] != stamps[1]  # each attempt is stamped (and signed) when it is made


def test_the_waits_double_and_the_last_attempt_marks_it_failed(n8n, settings):
    settings.N8N_FORWARD_MAX_ATTEMPTS = 4
    n8n.post(N8N_URL, status=503)
    delivery = a_delivery()
    waits, now = [], 0.0
    for attempt in range(4):
        row = (first_attempt(delivery, clock=at(now), rand=lambda: 0.0) if attempt == 0
               else delivery_attempt(delivery_pk=delivery.pk, clock=at(now), rand=lambda: 0.0))
        if row.status == DeliveryStatus.PENDING:
            waits.append((row.next_attempt_at - T0).total_seconds() - now)
            now = (row.next_attempt_at - T0).total_seconds()

    row = Delivery.objects.get()
    assert waits == [10, 20, 40]
    assert (row.status, row.attempts, row.last_status_code) == (DeliveryStatus.FAILED, 4, 503)
    assert len(n8n.calls) == 4
    assert delivery_attempt(delivery_pk=delivery.pk, clock=at(10**6)) is None  # failed stays failed


@pytest.mark.parametrize(("failure", "error"), [
    (requests.exceptions.ConnectionError("Connection refused"), "n8n could not be reached"),
    (requests.exceptions.ReadTimeout("read timed out"), "n8n did not answer within 10 s."),
])
def test_no_answer_at_all_is_a_failure_without_a_status_code(n8n, failure, error):
    n8n.post(N8N_URL, body=failure)
    row = first_attempt(a_delivery(), clock=at(0))
    assert (row.status, row.last_status_code) == (DeliveryStatus.PENDING, None)
    assert row.last_error.startswith(error)


def test_a_redirect_is_not_followed_and_counts_as_a_failure(n8n):
    n8n.post(N8N_URL, status=302, headers={"Location": "https://elsewhere.example.com/"})
    row = first_attempt(a_delivery(), clock=at(0))
    assert (row.status, row.last_status_code) == (DeliveryStatus.PENDING, 302)
    assert len(n8n.calls) == 1


def test_an_unusable_secret_is_recorded_on_the_row(n8n, settings):
    settings.N8N_WEBHOOK_SECRET = "whsec_***"
    row = first_attempt(a_delivery(), clock=at(0))
    assert row.status == DeliveryStatus.PENDING
    assert row.last_error.startswith("N8N_WEBHOOK_SECRET:")
    assert not n8n.calls


def test_without_n8n_url_events_are_kept_then_delivered_once_it_is_set(n8n, settings, eager,
                                                                       django_capture_on_commit_callbacks):
    settings.N8N_WEBHOOK_URL = ""
    delivery = a_delivery()
    deliveries_post([delivery], owner=OWNER, clock=at(0))
    assert delivery_attempt(delivery_pk=delivery.pk, clock=at(0)) is None
    assert not n8n.calls
    row = Delivery.objects.get()
    assert (row.status, row.attempts, row.last_error) == (DeliveryStatus.PENDING, 0, NO_URL)
    assert work_sweep(clock=at(3600)) == {}

    settings.N8N_WEBHOOK_URL = N8N_URL
    n8n.post(N8N_URL, json={"ok": True})
    with django_capture_on_commit_callbacks(execute=True):
        assert work_sweep(clock=at(3600)) == {"deliveries woken": 1}
    assert Delivery.objects.get().status == DeliveryStatus.DELIVERED
    assert len(n8n.calls) == 1


def test_a_delivery_is_created_once_per_event_id():
    first, second = a_delivery("same"), a_delivery("same")
    assert first is not None
    assert second is None  # processed again: the stored delivery keeps its course, nobody posts it twice
    assert Delivery.objects.count() == 1


def test_a_late_worker_cannot_overwrite_the_outcome_of_the_next_one(n8n):
    """Worker A's lease ran out mid-POST; the sweep gave the row to worker B, who delivered it."""
    delivery = a_delivery()

    def worker_a_stalls(request):
        # Meanwhile: the sweep took the row back and worker B delivered it (attempt 2).
        Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.DELIVERED, attempts=2, lease_owner="",
                                                       lease_expires=None)
        return (500, {}, "too late")

    n8n.add_callback(responses.POST, N8N_URL, callback=worker_a_stalls)
    first_attempt(delivery, clock=at(0))
    row = Delivery.objects.get()
    assert (row.status, row.attempts, row.last_error) == (DeliveryStatus.DELIVERED, 2, "")


def test_a_batch_is_posted_side_by_side_and_every_outcome_recorded(n8n):
    """The drain's deliveries wait on n8n together, not one after another."""
    import threading

    deliveries = [a_delivery(f"m-{index}") for index in range(6)]
    inside, most, lock = [0], [0], threading.Lock()
    release = threading.Barrier(3, timeout=5)  # at least three POSTs must be in flight at once

    def slow_n8n(request):
        with lock:
            inside[0] += 1
            most[0] = max(most[0], inside[0])
        try:
            release.wait()
        except threading.BrokenBarrierError:
            pass
        with lock:
            inside[0] -= 1
        return (500, {}, "no") if json.loads(request.body)["event_id"].endswith("m-5") else (200, {}, "{}")

    n8n.add_callback(responses.POST, N8N_URL, callback=slow_n8n)
    deliveries_post(deliveries, owner=OWNER, clock=at(0))
    assert most[0] >= 3
    statuses = dict(Delivery.objects.values_list("event_id", "status"))
    assert statuses == {**{f"avito-msg-m-{i}": DeliveryStatus.DELIVERED for i in range(5)},
                        "avito-msg-m-5": DeliveryStatus.PENDING}
    assert set(Delivery.objects.values_list("lease_owner", flat=True)) == {""}


def test_the_body_is_the_exact_json_every_time(n8n):
    n8n.post(N8N_URL, status=500)
    delivery = a_delivery()
    first_attempt(delivery, clock=at(0), rand=lambda: 0.0)
    delivery_attempt(delivery_pk=delivery.pk, clock=at(10), rand=lambda: 0.0)
    bodies = [call.request.body for call in n8n.calls]
    assert bodies[0] == bodies[1] == delivery.body.encode()
    assert json.loads(bodies[0])["client_name"] == "Guldan"


class TestVoiceLinkAfterALongWait:
    """Avito's voice link lives an hour: a delivery that waited longer gets a fresh one."""

    @pytest.fixture
    def voice_delivery(self):
        from webhooks.models import IncomingEvent

        value = avito_message(message_id="v-1", type="voice", content={"voice": {"voice_id": "voice-9"}})
        event = IncomingEvent.objects.create(raw={"payload": {"type": "message", "value": value}},
                                             event_type="message", message_id="v-1", chat_id=CHAT_ID,
                                             next_attempt_at=T0)
        payload = normalize_message(value, account_user_id=USER_ID, chat_id=CHAT_ID, chat_type="u2i", ad_id=1,
                                    client_user_id=None, client_name="Guldan", voice_url="https://avito.st/old.mp4")
        delivery = delivery_create(event=event, payload=payload, owner=OWNER, clock=at(0))
        # As after a failed first attempt: waiting for the next one.
        Delivery.objects.filter(pk=delivery.pk).update(created_at=T0, status=DeliveryStatus.PENDING,
                                                       lease_owner="", lease_expires=None)
        return delivery

    def sent_voice_url(self, mock) -> str:
        [post] = [call for call in mock.calls if call.request.url == N8N_URL]
        return json.loads(post.request.body)["media"]["voice_url"]

    def test_an_attempt_within_50_minutes_sends_the_stored_link(self, avito, voice_delivery):
        avito.post(N8N_URL, json={"ok": True})
        delivery_attempt(delivery_pk=voice_delivery.pk, clock=at(49 * 60))
        assert self.sent_voice_url(avito) == "https://avito.st/old.mp4"

    def test_a_later_attempt_asks_avito_again(self, avito, voice_delivery):
        avito.get(f"{VOICE_URL}?voice_ids=voice-9", json={"voices_urls": {"voice-9": "https://avito.st/new.mp4"}})
        avito.post(N8N_URL, json={"ok": True})
        row = delivery_attempt(delivery_pk=voice_delivery.pk, clock=at(2 * 3600))
        assert self.sent_voice_url(avito) == "https://avito.st/new.mp4"
        assert json.loads(row.body)["media"]["voice_url"] == "https://avito.st/new.mp4"
        assert row.status == DeliveryStatus.DELIVERED

    def test_avito_failing_sends_the_stored_link_rather_than_nothing(self, avito, voice_delivery, settings):
        settings.MAX_RETRIES = 0
        avito.get(f"{VOICE_URL}?voice_ids=voice-9", status=503)
        avito.post(N8N_URL, json={"ok": True})
        delivery_attempt(delivery_pk=voice_delivery.pk, clock=at(2 * 3600))
        assert self.sent_voice_url(avito) == "https://avito.st/old.mp4"


def test_the_environments_proxy_and_ca_bundle_are_honoured_read_once_per_url(monkeypatch):
    from core.n8n.client import N8nClient, _session

    monkeypatch.setenv("HTTP_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", "n8n.local")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/company-ca.pem")
    client = N8nClient(session=_session())
    proxied = client._environment_for("http://n8n.example.com/webhook/avito")
    assert proxied["proxies"].get("http") == "http://proxy.internal:3128"
    assert proxied["verify"] == "/etc/ssl/company-ca.pem"
    assert "http" not in client._environment_for("http://n8n.local/webhook/avito")["proxies"]  # NO_PROXY
    monkeypatch.setenv("HTTP_PROXY", "http://other:3128")
    assert client._environment_for("http://n8n.example.com/webhook/avito") is proxied  # read once
