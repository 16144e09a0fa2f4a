"""Redis down: the Avito token and call limit move to the database, and back to Redis when it returns.

The Redis here is a redis-server of the test's own on a free port, killed and started again;
the machine's shared Redis is never touched. Avito is mocked (`responses`).
"""
from __future__ import annotations

import pytest
import redis

import messenger.avito.store_failover as store_failover
from messenger.avito import get_client, shared_store
from messenger.avito.errors import RedisUnavailable
from messenger.avito.store_failover import RedisOutage
from messenger.models import AvitoToken, RateLimitCall
from tests.avito.conftest import FakeClock
from tests.conftest import AVITO, USER_ID
from tests.resilience.processes import RedisServer

pytestmark = pytest.mark.django_db

SEND = f"{AVITO}/messenger/v1/accounts/{USER_ID}/chats/u2i-failover/messages"


def test_outage_uses_the_database_until_the_retry_time_then_redis_again():
    clock = FakeClock(now=100.0)
    outage = RedisOutage(retry_seconds=5, clock=clock)
    redis_up = {"up": False}
    tried = []

    def on_redis():
        tried.append(clock.now)
        if not redis_up["up"]:
            raise RedisUnavailable("Redis failed: ConnectionError.")
        return "redis"

    assert outage.run(on_redis, lambda: "database") == "database"  # the failing call itself is bridged
    clock.now += 4
    redis_up["up"] = True
    assert outage.run(on_redis, lambda: "database") == "database"  # Redis not tried again yet
    assert tried == [100.0]
    clock.now += 1
    assert outage.run(on_redis, lambda: "database") == "redis"
    assert outage.store == "redis"


@pytest.fixture
def own_redis(tmp_path):
    server = RedisServer(tmp_path).start()
    yield server
    server.kill()


def test_sends_go_on_while_redis_is_down_and_use_redis_again_once_it_is_back(avito, settings, own_redis,
                                                                            monkeypatch):
    monkeypatch.setattr(store_failover, "RETRY_SECONDS", 0.2)
    settings.REDIS_URL = own_redis.url
    avito.post(SEND, json={"id": "m-1", "type": "text", "created": 1718000000})
    client = get_client()

    client.send_text("u2i-failover", "до")
    keys = redis.Redis.from_url(own_redis.url)
    assert shared_store() == "redis" and keys.get("avitogw:avito:token")
    assert not AvitoToken.objects.exists()

    own_redis.kill()
    for index in range(3):
        client.send_text("u2i-failover", f"во время {index}")  # no 502, no 503
    assert shared_store() == "database"
    assert AvitoToken.objects.get().access_token == "tok-1"  # fetched again, into the database
    assert RateLimitCall.objects.count() == 4  # the token call and three sends, counted there

    own_redis.start()  # same port, empty
    import time

    time.sleep(0.25)
    client.send_text("u2i-failover", "после")
    assert shared_store() == "redis"
    assert keys.get("avitogw:avito:token")  # the token is in Redis again
    assert keys.zcard("avitogw:avito:ratelimit") >= 1
    assert RateLimitCall.objects.count() == 4  # nothing more went to the database
    sends = [call for call in avito.calls if call.request.url == SEND]
    assert len(sends) == 5
