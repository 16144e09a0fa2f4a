"""How the transport retries, pauses and maps Avito's failures (responses-mocked Avito).

The pauses are recorded, never slept: `client` injects `sleep` and a fixed jitter of 0.5.
"""
from __future__ import annotations

import email.utils
import time

import pytest
import requests
from responses import matchers

from messenger.avito import errors, get_client
from messenger.models import AvitoToken, RateLimitCall
from tests.conftest import AVITO, USER_ID

CHATS = f"{AVITO}/messenger/v2/accounts/{USER_ID}/chats"
OK = {"chats": [], "meta": {"has_more": False}}

pytestmark = pytest.mark.django_db


def chat_calls(avito) -> int:
    return sum(1 for call in avito.calls if call.request.url.startswith(CHATS))


def token_calls(avito) -> int:
    return sum(1 for call in avito.calls if call.request.url == f"{AVITO}/token")


@pytest.mark.parametrize("failure", [
    {"status": 500, "json": {"error": {"code": 500, "message": "internal"}}},
    {"status": 503, "body": "<html>busy</html>"},
    {"status": 429, "json": {"error": {"code": 429, "message": "Too Many Requests"}}},
    {"body": requests.exceptions.ConnectionError("Connection aborted.")},
    {"body": requests.exceptions.ReadTimeout("read timed out")},
    {"body": requests.exceptions.ConnectTimeout("connect timed out")},
], ids=["500", "503", "429", "connection-error", "read-timeout", "connect-timeout"])
def test_transient_failures_are_retried_until_success(avito, client, pauses, failure):
    avito.get(CHATS, **failure)
    avito.get(CHATS, **failure)
    avito.get(CHATS, json=OK)

    assert client.list_chats() == OK
    assert chat_calls(avito) == 3
    assert len(pauses) == 2


@pytest.mark.parametrize("failure, error, message", [
    ({"status": 502, "json": {"error": {"code": 502, "message": "bad gateway upstream"}}},
     errors.AvitoUnavailable, "bad gateway upstream"),
    ({"status": 429, "json": {"error": {"code": 429, "message": "Too Many Requests"}}},
     errors.AvitoRateLimited, "Too Many Requests"),
    ({"body": requests.exceptions.ReadTimeout()}, errors.AvitoTimeout, "did not answer in 5 s"),
    ({"body": requests.exceptions.ConnectionError()}, errors.AvitoUnavailable, "Could not reach Avito"),
], ids=["5xx", "429", "timeout", "connection-error"])
def test_after_max_retries_the_typed_error_carries_avitos_message(avito, client, settings, failure, error,
                                                                  message):
    avito.get(CHATS, **failure)

    with pytest.raises(error, match=message):
        client.list_chats()
    assert chat_calls(avito) == settings.MAX_RETRIES + 1 == 4


def test_no_retries_when_max_retries_is_zero(avito, settings, gateway_settings):
    settings.MAX_RETRIES = 0
    avito.get(CHATS, status=500)

    with pytest.raises(errors.AvitoUnavailable):
        get_client().list_chats()
    assert chat_calls(avito) == 1


def test_backoff_grows_exponentially_from_the_base(avito, client, pauses):
    client.transport.backoff_base, client.transport.timeout = 1.0, 30
    avito.get(CHATS, status=500)

    with pytest.raises(errors.AvitoUnavailable):
        client.list_chats()
    assert pauses == [1.5, 3.0, 6.0]  # jitter 0.5 is the middle of the band [base * 2^n, twice that]


@pytest.mark.parametrize("jitter, expected", [(0.0, [1.0, 2.0, 4.0]), (0.999, [1.999, 3.998, 7.996])])
def test_jitter_spreads_each_pause_between_one_and_two_times(avito, client, pauses, jitter, expected):
    client.transport.backoff_base, client.transport.timeout = 1.0, 30
    client.transport.jitter = lambda: jitter
    avito.get(CHATS, status=500)

    with pytest.raises(errors.AvitoUnavailable):
        client.list_chats()
    assert pauses == pytest.approx(expected)


def test_real_jitter_differs_between_pauses_but_stays_in_bounds(client):
    import random

    transport = client.transport
    transport.backoff_base, transport.jitter = 0.2, random.Random(7).random
    for attempt in range(3):
        samples = [transport.backoff(attempt) for _ in range(200)]
        nominal = 0.2 * 2 ** attempt
        assert all(nominal <= s < nominal * 2 for s in samples)
        assert max(samples) - min(samples) > nominal * 0.8  # really spread, not a constant


def test_exponential_pauses_stop_growing_at_the_call_timeout(client):
    client.transport.backoff_base = 1.0
    assert client.transport.backoff(10) == client.transport.timeout == 5


def test_retry_after_seconds_is_honoured(avito, client, pauses):
    client.transport.jitter = lambda: 0.0
    avito.get(CHATS, status=429, headers={"Retry-After": "3"})
    avito.get(CHATS, status=503, headers={"Retry-After": "2"})
    avito.get(CHATS, json=OK)

    assert client.list_chats() == OK
    assert pauses == [3.0, 2.0]


def test_retry_after_as_an_http_date_is_honoured(avito, client, pauses):
    client.transport.jitter = lambda: 0.0
    when = email.utils.formatdate(time.time() + 4, usegmt=True)
    avito.get(CHATS, status=429, headers={"Retry-After": when})
    avito.get(CHATS, json=OK)

    client.list_chats()
    assert 2.5 < pauses[0] <= 4.0  # the date has whole seconds


def test_unreadable_retry_after_falls_back_to_backoff(avito, client, pauses):
    client.transport.backoff_base = 1.0
    avito.get(CHATS, status=429, headers={"Retry-After": "soon-ish"})
    avito.get(CHATS, json=OK)

    client.list_chats()
    assert pauses == [1.5]


def test_retry_after_longer_than_the_timeout_gives_up_with_it(avito, client, pauses):
    avito.get(CHATS, status=429, headers={"Retry-After": "120"}, json={"error": {"code": 429, "message": "slow"}})

    with pytest.raises(errors.AvitoRateLimited) as raised:
        client.list_chats()
    assert raised.value.retry_after == 120 and raised.value.message == "slow"
    assert chat_calls(avito) == 1 and pauses == []


@pytest.mark.parametrize("status", [401, 403])
def test_expired_token_is_refreshed_once_and_the_call_retried(avito, client, pauses, status):
    avito.post(f"{AVITO}/token", json={"access_token": "tok-2", "expires_in": 86400})
    avito.get(CHATS, status=status, json={"error": {"code": status, "message": "token expired"}},
              match=[matchers.header_matcher({"Authorization": "Bearer tok-1"})])
    avito.get(CHATS, json=OK, match=[matchers.header_matcher({"Authorization": "Bearer tok-2"})])

    assert client.list_chats() == OK
    assert token_calls(avito) == 2 and chat_calls(avito) == 2
    assert pauses == []  # a refresh is not a failure to back off from
    assert get_client().transport.token_store.current().access_token == "tok-2"


def test_a_second_403_after_the_refresh_is_an_auth_error(avito, client):
    avito.post(f"{AVITO}/token", json={"access_token": "tok-2", "expires_in": 86400})
    avito.get(CHATS, status=403, json={"error": {"code": 403, "message": "permission denied"}})

    with pytest.raises(errors.AvitoAuthError, match="permission denied"):
        client.list_chats()
    assert token_calls(avito) == 2 and chat_calls(avito) == 2


def test_bad_credentials_are_an_auth_error_not_a_rejected_request(avito, client):
    avito.replace("POST", f"{AVITO}/token", status=400,
                  json={"error": "invalid_client", "error_description": "client_id or client_secret is wrong"})

    with pytest.raises(errors.AvitoAuthError, match="client_secret is wrong"):
        client.list_chats()
    assert token_calls(avito) == 1 and chat_calls(avito) == 0


def test_missing_credentials_are_an_auth_error_without_calling_avito(avito, settings, gateway_settings):
    settings.AVITO_CLIENT_SECRET = ""

    with pytest.raises(errors.AvitoAuthError, match="AVITO_CLIENT_SECRET"):
        get_client().list_chats()
    assert len(avito.calls) == 0


def test_400_is_rejected_at_once_with_avitos_message_and_fields(avito, client, pauses):
    avito.post(f"{AVITO}/messenger/v1/accounts/{USER_ID}/chats/c1/messages", status=400,
               json={"error": {"code": 400, "message": "validation failed",
                               "fields": {"message.text": "too long"}}})

    with pytest.raises(errors.AvitoRejected) as raised:
        client.send_text("c1", "x" * 1001)
    assert (raised.value.message, raised.value.status) == ("validation failed", 400)
    assert raised.value.details == {"message.text": "too long"}
    assert len([c for c in avito.calls if "/messages" in c.request.url]) == 1 and pauses == []


def test_404_is_not_found_without_retry(avito, client):
    avito.get(f"{CHATS}/nope", status=404, json={"error": {"code": 404, "message": "chat not found"}})

    with pytest.raises(errors.AvitoNotFound, match="chat not found"):
        client.get_chat("nope")
    assert len([c for c in avito.calls if c.request.url.endswith("/nope")]) == 1


def test_a_success_that_is_not_json_is_an_upstream_error(avito, client):
    avito.get(CHATS, body="<html>maintenance</html>", status=200)

    with pytest.raises(errors.AvitoUnavailable, match="not JSON"):
        client.list_chats()


def test_the_limiter_counts_every_call_including_the_token(avito, settings, gateway_settings):
    settings.RATE_LIMIT_REQUESTS = 3
    avito.get(CHATS, json=OK)
    avito_client = get_client()

    avito_client.list_chats()
    avito_client.list_chats()
    with pytest.raises(errors.AvitoRateLimited, match="3 per 60 s") as raised:
        avito_client.list_chats()  # the window is 60 s, longer than the 5 s a caller waits
    assert 55 < raised.value.retry_after <= 60
    assert token_calls(avito) == 1 and chat_calls(avito) == 2


def _nothing_listens() -> str:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"redis://127.0.0.1:{sock.getsockname()[1]}/0"


def test_redis_down_the_call_goes_on_with_the_database_store(avito, settings, gateway_settings):
    from messenger.avito import shared_store

    settings.REDIS_URL = _nothing_listens()
    avito.get(f"{AVITO}/messenger/v2/accounts/1234567/chats", json={"chats": []})

    assert get_client().list_chats() == {"chats": [], "meta": {"has_more": False}}
    assert shared_store() == "database"
    assert AvitoToken.objects.get().access_token == "tok-1"  # the token went to the database
    assert RateLimitCall.objects.count() == 2  # and so did the calls (token, chats)


def test_redis_and_database_down_is_503_dependency_unavailable(avito, settings, gateway_settings, monkeypatch):
    from django.db import OperationalError

    from avitogw.exception_handler import api_exception_handler
    from messenger.avito.rate_limiter import DatabaseWindowStore

    def database_down(self):
        raise OperationalError("server closed the connection unexpectedly")

    settings.REDIS_URL = _nothing_listens()
    monkeypatch.setattr(DatabaseWindowStore, "now", database_down)
    with pytest.raises(errors.StoreUnavailable, match="database") as raised:
        get_client().list_chats()
    response = api_exception_handler(raised.value, {})
    assert response.status_code == 503 and response.data["error"]["code"] == "dependency_unavailable"
    assert "127.0.0.1" not in response.data["error"]["message"]
    assert not any("/chats" in call.request.url for call in avito.calls)
