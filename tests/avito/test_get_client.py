"""`get_client()`: one client per process, shared by its threads, rebuilt after a fork."""
from __future__ import annotations

import os
import signal
import threading

import pytest

from messenger.avito import get_client, reset_client
from messenger.avito.rate_limiter import DatabaseWindowStore
from messenger.avito.token_store import DatabaseTokenBackend


def test_one_client_per_process_shared_by_threads():
    seen = []
    threads = [threading.Thread(target=lambda: seen.append(get_client())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len({id(client) for client in seen}) == 1
    assert seen[0] is get_client()


def test_reset_client_builds_a_new_one_from_current_settings(settings):
    first = get_client()
    settings.MAX_CONNECTIONS, settings.CONNECTION_TIMEOUT = 3, 7.5
    reset_client()
    second = get_client()

    assert second is not first
    adapter = second.transport.session.get_adapter("https://api.avito.ru")
    assert adapter._pool_maxsize == 3 and adapter._pool_block
    assert second.transport.timeout == 7.5 and second.transport.base_url == "https://api.avito.ru"


def test_without_redis_the_token_and_limit_live_in_the_database():
    transport = get_client().transport
    assert isinstance(transport.token_store.backend, DatabaseTokenBackend)
    assert isinstance(transport.rate_limiter.store, DatabaseWindowStore)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_builds_its_own_client_and_session():
    parent = get_client()
    held = threading.Event()
    release = threading.Event()

    def hold_the_lock():  # a thread of the parent is inside get_client() at the moment of fork
        from messenger import avito

        with avito._client._lock:  # the PerProcess holder of the client (core.singleton)
            held.set()
            release.wait(5)

    thread = threading.Thread(target=hold_the_lock)
    thread.start()
    held.wait(5)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: must not deadlock on the copied lock, must not reuse the Session
        signal.alarm(5)  # a deadlocked child dies, and the parent reads no verdict
        try:
            child = get_client()
            verdict = b"ok" if child is not parent and child.transport.session is not parent.transport.session \
                and child is get_client() else b"shared"
        except BaseException:
            verdict = b"error"
        os.write(write_end, verdict)
        os._exit(0)
    release.set()
    thread.join()
    os.close(write_end)
    verdict = os.read(read_end, 16)
    os.waitpid(pid, 0)

    assert verdict == b"ok"
    assert get_client() is parent
