"""No customer gets a message twice: an ambiguous send failure is checked against the chat.

A 5xx, a read timeout or a dropped connection may come after Avito stored the message, so
the client looks at the chat's newest messages before sending again. A failure that proves
the request never arrived (connect timeout, refused connection, 429, 401/403) is resent
without looking.
"""
from __future__ import annotations

import time

import pytest
import requests
from urllib3.exceptions import MaxRetryError, NewConnectionError

from messenger.avito import errors
from tests.conftest import AVITO, USER_ID

CHAT = "u2i-abc"
SEND = f"{AVITO}/messenger/v1/accounts/{USER_ID}/chats/{CHAT}/messages"
SEND_IMAGE = f"{SEND}/image"
NEWEST = f"{AVITO}/messenger/v3/accounts/{USER_ID}/chats/{CHAT}/messages/"
SENT = {"id": "m-new", "created": 0, "direction": "out", "type": "text", "content": {"text": "Добрый день"}}

pytestmark = pytest.mark.django_db


def sends(avito, url=SEND) -> int:
    return sum(1 for call in avito.calls if call.request.method == "POST" and call.request.url == url)


def looks(avito) -> int:
    return sum(1 for call in avito.calls if call.request.url.startswith(NEWEST))


def message(**fields) -> dict:
    return {**SENT, "created": int(time.time()), **fields}


def refused_connection() -> requests.exceptions.ConnectionError:
    reason = NewConnectionError(None, "Failed to establish a new connection: [Errno 111] Connection refused")
    return requests.exceptions.ConnectionError(MaxRetryError(None, SEND, reason))


AMBIGUOUS = [
    {"status": 500, "json": {"error": {"code": 500, "message": "internal"}}},
    {"status": 502, "body": "bad gateway"},
    {"body": requests.exceptions.ReadTimeout("read timed out")},
    {"body": requests.exceptions.ConnectionError("Connection aborted: RemoteDisconnected")},
    {"body": requests.exceptions.ChunkedEncodingError("connection broken mid-answer")},
]
AMBIGUOUS_IDS = ["500", "502", "read-timeout", "dropped", "cut-answer"]


@pytest.mark.parametrize("failure", AMBIGUOUS, ids=AMBIGUOUS_IDS)
def test_ambiguous_failure_with_the_message_in_the_chat_is_not_sent_again(avito, client, failure):
    avito.post(SEND, **failure)
    avito.post(SEND, json=SENT)  # would be the duplicate
    found = message(id="m-arrived")
    avito.get(NEWEST, json={"messages": [message(id="m-other", direction="in"), found]})

    assert client.send_text(CHAT, "Добрый день") == found
    assert sends(avito) == 1 and looks(avito) == 1


@pytest.mark.parametrize("failure", AMBIGUOUS, ids=AMBIGUOUS_IDS)
def test_ambiguous_failure_without_the_message_in_the_chat_is_resent_once(avito, client, failure):
    avito.post(SEND, **failure)
    avito.post(SEND, json=SENT)
    avito.get(NEWEST, json=[])

    assert client.send_text(CHAT, "Добрый день") == SENT
    assert sends(avito) == 2 and looks(avito) == 1


@pytest.mark.parametrize("failure", [
    {"body": requests.exceptions.ConnectTimeout("connect timed out")},
    {"body": refused_connection()},
    {"status": 429, "json": {"error": {"code": 429, "message": "Too Many Requests"}}},
], ids=["connect-timeout", "refused", "429"])
def test_failure_before_avito_took_the_message_is_resent_without_looking(avito, client, failure):
    avito.post(SEND, **failure)
    avito.post(SEND, json=SENT)

    assert client.send_text(CHAT, "Добрый день") == SENT
    assert sends(avito) == 2 and looks(avito) == 0


def test_403_on_a_send_refreshes_the_token_and_sends_once_more(avito, client):
    avito.post(f"{AVITO}/token", json={"access_token": "tok-2", "expires_in": 86400})
    avito.post(SEND, status=403, json={"error": {"code": 403, "message": "expired"}})
    avito.post(SEND, json=SENT)

    assert client.send_text(CHAT, "Добрый день") == SENT
    assert sends(avito) == 2 and looks(avito) == 0
    assert avito.calls[-1].request.headers["Authorization"] == "Bearer tok-2"


@pytest.mark.parametrize("lookalike", [
    message(direction="in"),  # the customer wrote the same words
    message(content={"text": "Другой текст"}),
    message(created=int(time.time()) - 600),  # our own identical message from ten minutes ago
    message(type="image", content={"image": {"sizes": {}}}),
], ids=["incoming", "other-text", "old", "other-type"])
def test_only_our_own_recent_message_with_the_same_text_counts(avito, client, lookalike):
    avito.post(SEND, status=500)
    avito.post(SEND, json=SENT)
    avito.get(NEWEST, json=[lookalike])

    client.send_text(CHAT, "Добрый день")
    assert sends(avito) == 2


def test_verification_looks_after_the_backoff_pause(avito, client, pauses):
    order = []
    client.transport.sleep = lambda seconds: order.append("pause")
    avito.post(SEND, status=500)
    avito.add_callback("GET", NEWEST, callback=lambda request: (order.append("look") or (200, {}, "[]")))
    avito.post(SEND, json=SENT)

    client.send_text(CHAT, "Добрый день")
    assert order == ["pause", "look"]


def test_when_the_chat_cannot_be_read_the_send_fails_and_is_not_repeated(avito, client):
    avito.post(SEND, body=requests.exceptions.ReadTimeout())
    avito.post(SEND, json=SENT)
    avito.get(NEWEST, status=500)

    with pytest.raises(errors.AvitoTimeout):
        client.send_text(CHAT, "Добрый день")
    assert sends(avito) == 1


@pytest.mark.parametrize("in_chat, outcome", [(True, "found"), (False, "error")])
def test_last_attempt_still_looks_before_reporting_failure(avito, client, in_chat, outcome):
    client.transport.max_retries = 0
    avito.post(SEND, status=503)
    avito.get(NEWEST, json=[message()] if in_chat else [])

    if outcome == "found":
        assert client.send_text(CHAT, "Добрый день")["id"] == "m-new"
    else:
        with pytest.raises(errors.AvitoUnavailable):
            client.send_text(CHAT, "Добрый день")
    assert sends(avito) == 1 and looks(avito) == 1


def test_repeated_ambiguous_failures_look_each_time_and_stop_at_max_retries(avito, client, settings):
    avito.post(SEND, status=500)
    avito.get(NEWEST, json=[])

    with pytest.raises(errors.AvitoUnavailable):
        client.send_text(CHAT, "Добрый день")
    assert sends(avito) == settings.MAX_RETRIES + 1
    assert looks(avito) == settings.MAX_RETRIES + 1


def test_image_send_is_deduplicated_the_same_way(avito, client):
    avito.post(SEND_IMAGE, status=500)
    avito.post(SEND_IMAGE, json={"id": "dup"})
    arrived = message(id="img-1", type="image", content={"image": {"sizes": {"32x32": "https://i"}}})
    avito.get(NEWEST, json=[arrived])

    assert client.send_image(CHAT, "12345.abc") == arrived
    assert sends(avito, SEND_IMAGE) == 1


def test_a_non_idempotent_call_without_verify_is_never_repeated_blind(avito, client):
    avito.post(SEND, status=500)

    with pytest.raises(errors.AvitoUnavailable):
        client.transport.request("POST", f"/messenger/v1/accounts/{USER_ID}/chats/{CHAT}/messages",
                                 json={"message": {"text": "x"}, "type": "text"}, idempotent=False)
    assert sends(avito) == 1
