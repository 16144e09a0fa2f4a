"""The transport against a real local HTTP server: what `responses` cannot show.

The timeout really cuts a slow answer, at most MAX_CONNECTIONS calls are in flight at once
per process, calls reuse the pooled keep-alive connection, and the "never sent" test
recognises real refused connections and real read timeouts.
"""
from __future__ import annotations

import socket
import threading

import pytest
import requests

from messenger.avito import errors, get_client
from messenger.avito.transport import never_sent
from tests.avito.helpers.fake_avito import FakeAvito

CHATS = "/messenger/v2/accounts/1234567/chats"

pytestmark = pytest.mark.django_db


@pytest.fixture
def fake_avito(settings):
    with FakeAvito() as server:
        settings.AVITO_API_BASE_URL = server.url
        yield server


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_connection_timeout_cuts_a_slow_answer_and_is_retried(fake_avito, settings, pauses):
    settings.CONNECTION_TIMEOUT, settings.MAX_RETRIES = 0.3, 1
    fake_avito.delay = 2.0
    client = get_client()
    client.transport.sleep = pauses.append

    with pytest.raises(errors.AvitoTimeout, match="0.3 s"):
        client.list_chats()
    assert fake_avito.count(CHATS) == 2


@pytest.mark.redis
def test_at_most_max_connections_calls_are_in_flight(avito_redis, fake_avito, settings):
    settings.MAX_CONNECTIONS = 2
    fake_avito.delay = 0.3
    client = get_client()
    client.transport.token_store.get()
    failures = []

    def call():
        try:
            client.list_chats()
        except Exception as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=call) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    assert fake_avito.count(CHATS) == 6
    assert fake_avito.max_active == 2  # capped, and the cap is really used


def test_calls_reuse_the_pooled_connection(fake_avito):
    client = get_client()
    for _ in range(5):
        client.list_chats()

    assert fake_avito.count(CHATS) == 5
    assert len(fake_avito.connections) == 1  # the token request and every call on one kept-alive connection
    assert fake_avito.count("/token") == 1


def test_a_real_refused_connection_was_never_sent():
    with pytest.raises(requests.exceptions.ConnectionError) as raised:
        requests.get(f"http://127.0.0.1:{closed_port()}/", timeout=2)
    assert never_sent(raised.value)


def test_a_real_read_timeout_may_have_been_sent(fake_avito):
    fake_avito.delay = 1.0
    with pytest.raises(requests.exceptions.ReadTimeout) as raised:
        requests.get(fake_avito.url + CHATS, timeout=0.2)
    assert not never_sent(raised.value)
