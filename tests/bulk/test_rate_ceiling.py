"""Running at the limit's ceiling without a 429: a call counts from Avito's answer, not from its grant.

Avito counts a call when it arrives. Workers that reuse a slot the moment it frees would
otherwise reach Avito inside the window whenever the earlier call was delayed on its way.
"""
from __future__ import annotations

import time

import pytest

from messenger.avito import get_client
from messenger.avito.rate_limiter import DatabaseWindowStore, RedisWindowStore
from messenger.models import RateLimitCall

REDIS_URL = "redis://127.0.0.1:6379/12"
KEY = "avitogw:test:bulk-ceiling"


@pytest.mark.django_db
def test_a_settled_call_holds_its_slot_for_a_window_after_its_answer():
    now = [1000.0]
    store = DatabaseWindowStore(clock=lambda: now[0])
    granted, at = store.try_acquire(1, 2.0)
    assert granted and at == 1000.0
    now[0] = 1000.4  # Avito answered 0.4 s after the grant
    store.settle(at)
    now[0] = 1002.1  # a window after the grant, but not after the answer
    assert store.try_acquire(1, 2.0) == (False, pytest.approx(0.3))
    now[0] = 1002.5
    assert store.try_acquire(1, 2.0)[0] is True


@pytest.mark.redis
def test_redis_moves_the_entry_to_the_answer_on_its_own_clock():
    import redis

    connection = redis.Redis.from_url(REDIS_URL)
    connection.delete(KEY)
    try:
        store = RedisWindowStore(connection, key=KEY)
        granted, at = store.try_acquire(1, 5.0)
        assert granted
        time.sleep(0.5)
        store.settle(at)
        granted, wait = store.try_acquire(1, 5.0)
        # Counted from the grant the wait would be ~4.5 s; from the answer it is ~5 s.
        assert not granted and wait > 4.75
        assert connection.zcard(KEY) == 1
    finally:
        connection.delete(KEY)


@pytest.mark.django_db
def test_every_limited_call_is_settled_when_avito_answers(avito):
    answered = []

    def answer(request):
        answered.append(time.time())
        return 200, {}, '{"id": "u2i-a"}'

    avito.add_callback("GET", "https://api.avito.ru/messenger/v2/accounts/1234567/chats/u2i-a", callback=answer)
    get_client().get_chat("u2i-a")
    stamps = sorted(RateLimitCall.objects.values_list("at", flat=True))
    assert len(stamps) == 2  # the token, then the chat
    assert stamps[-1] >= answered[0]  # granted before the request went out, counted from the answer
