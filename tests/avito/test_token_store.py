"""The shared token store in one process: caching, refresh, the fetch lease, both backends.

Several OS processes at once are in test_multiprocess.py; here the store is driven directly,
with Avito's token endpoint mocked (`avito`) or a counting fetch function.
"""
from __future__ import annotations

import threading
import time

import pytest

from messenger.avito import errors, get_client, redis_connection
from messenger.avito.token_store import (DatabaseTokenBackend, RedisTokenBackend, Token, TokenStore)
from messenger.models import AvitoToken
from tests.conftest import AVITO

pytestmark = pytest.mark.django_db


class CountingFetch:
    def __init__(self, pause: float = 0.0):
        self.calls, self.pause, self.lock = 0, pause, threading.Lock()

    def __call__(self) -> Token:
        with self.lock:
            self.calls += 1
            number = self.calls
        time.sleep(self.pause)
        return Token(f"fetched-{number}", time.time() + 86400)


@pytest.fixture(params=["database", pytest.param("redis", marks=pytest.mark.redis)])
def backend(request):
    if request.param == "redis":
        request.getfixturevalue("avito_redis")
        return RedisTokenBackend(redis_connection(), request.getfixturevalue("redis_prefix") + ":token")
    return DatabaseTokenBackend()


def token_calls(avito) -> int:
    return sum(1 for call in avito.calls if call.request.url == f"{AVITO}/token")


def test_the_token_is_fetched_once_and_then_shared(avito, backend):
    store = get_client().transport.token_store
    store.backend = backend

    assert store.get().access_token == "tok-1"
    assert store.get().access_token == "tok-1"
    assert token_calls(avito) == 1
    assert backend.read().access_token == "tok-1"


def test_a_token_near_its_expiry_is_replaced(backend):
    backend.write(Token("old", time.time() + 30))  # inside the 60 s margin
    fetch = CountingFetch()
    store = TokenStore(backend, fetch, wait_timeout=5)

    assert store.get().access_token == "fetched-1"
    assert fetch.calls == 1


def test_refresh_fetches_a_new_token_unless_another_process_already_did(backend):
    fetch = CountingFetch()
    store = TokenStore(backend, fetch, wait_timeout=5)
    backend.write(Token("current", time.time() + 86400))

    assert store.refresh(stale="already-replaced").access_token == "current"
    assert fetch.calls == 0
    assert store.refresh(stale="current").access_token == "fetched-1"
    assert store.refresh().access_token == "fetched-2"  # no stale named: replace what is stored


def test_the_lease_belongs_to_one_fetch(backend):
    assert backend.try_lease("a", 10)
    assert not backend.try_lease("b", 10)
    assert not backend.try_lease("a", 10)  # not re-entrant: two threads of one process take turns
    assert backend.renew("a", 10) and not backend.renew("b", 10)
    backend.release("b")  # not b's to release
    assert not backend.try_lease("b", 10)
    backend.release("a")
    assert backend.try_lease("b", 10)


def test_an_abandoned_lease_expires(backend):
    if isinstance(backend, DatabaseTokenBackend):
        now = [1000.0]
        backend.clock = lambda: now[0]
        assert backend.try_lease("dead-process", 10)
        now[0] += 9.9
        assert not backend.try_lease("b", 10)
        now[0] += 0.2
    else:
        assert backend.try_lease("dead-process", 0.2)
        assert not backend.try_lease("b", 10)
        time.sleep(0.25)
    assert backend.try_lease("b", 10)
    assert not backend.renew("dead-process", 10)


def test_database_lease_creates_the_row_once():
    assert not AvitoToken.objects.exists()
    backend = DatabaseTokenBackend()

    assert backend.read() is None
    assert backend.try_lease("a", 10) and not backend.try_lease("b", 10)
    backend.write(Token("t", 123.0))
    assert AvitoToken.objects.count() == 1
    row = AvitoToken.objects.get()
    assert (row.access_token, row.expires_at, row.lease_owner) == ("t", 123.0, "a")


def test_a_waiter_takes_the_token_another_process_fetched(backend):
    backend.try_lease("other-process", 10)
    fetch = CountingFetch()

    def other_process_finishes(seconds):
        backend.write(Token("from-other", time.time() + 86400))

    store = TokenStore(backend, fetch, wait_timeout=5, sleep=other_process_finishes)
    assert store.get().access_token == "from-other"
    assert fetch.calls == 0


def test_a_waiter_gives_up_after_its_timeout(backend):
    backend.try_lease("stuck-process", 60)
    now = [0.0]
    store = TokenStore(backend, CountingFetch(), wait_timeout=2, clock=lambda: now[0],
                       sleep=lambda seconds: now.__setitem__(0, now[0] + seconds))

    with pytest.raises(errors.AvitoUnavailable, match="another process"):
        store.get()


def test_a_failed_fetch_releases_the_lease(backend):
    def failing_fetch():
        raise errors.AvitoUnavailable("Avito is down")

    store = TokenStore(backend, failing_fetch, wait_timeout=5)
    with pytest.raises(errors.AvitoUnavailable, match="down"):
        store.get()
    assert backend.try_lease("next", 10)


@pytest.mark.redis
def test_the_heartbeat_keeps_a_slow_fetch_s_lease(avito_redis, redis_prefix):
    backend = RedisTokenBackend(redis_connection(), f"{redis_prefix}:token")
    fetch = CountingFetch(pause=0.8)
    store = TokenStore(backend, fetch, wait_timeout=5, lease_seconds=0.3)
    thread = threading.Thread(target=store.get)
    thread.start()
    time.sleep(0.5)  # longer than the lease: only the heartbeat can still hold it

    assert not backend.try_lease("intruder", 10)
    thread.join()
    assert fetch.calls == 1
    assert backend.try_lease("intruder", 10)  # released when the fetch ended


@pytest.mark.redis
def test_threads_of_one_process_make_one_fetch(avito_redis, redis_prefix):
    backend = RedisTokenBackend(redis_connection(), f"{redis_prefix}:token")
    fetch = CountingFetch(pause=0.2)
    store = TokenStore(backend, fetch, wait_timeout=5)
    tokens = []
    threads = [threading.Thread(target=lambda: tokens.append(store.get().access_token)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert fetch.calls == 1
    assert tokens == ["fetched-1"] * 8


@pytest.mark.redis
def test_the_client_keeps_its_token_in_redis_when_redis_url_is_set(avito, avito_redis, redis_prefix):
    avito.get(f"{AVITO}/messenger/v2/accounts/1234567/chats", json={"chats": []})

    get_client().list_chats()

    assert isinstance(get_client().transport.token_store.backend.redis, RedisTokenBackend)
    assert b"tok-1" in avito_redis.get(f"{redis_prefix}:token")
    assert not AvitoToken.objects.exists()
