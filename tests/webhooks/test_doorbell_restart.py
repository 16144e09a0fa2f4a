"""The doorbell after Redis restarts, and after a drain that could not be published.

The Redis is a redis-server of the test's own on a free port (killed and started again);
the machine's shared Redis is never touched.
"""
from __future__ import annotations

import pytest

from tests.resilience.processes import RedisServer
from webhooks import doorbell, wakeups

pytestmark = pytest.mark.django_db


@pytest.fixture
def own_redis(tmp_path, settings):
    server = RedisServer(tmp_path).start()
    settings.REDIS_URL = server.url
    doorbell.bell_reset()
    yield server
    server.kill()
    doorbell.bell_reset()


def test_the_bell_works_at_once_after_redis_restarts_with_no_stale_socket(own_redis):
    assert doorbell.bell_ring() is True  # this thread's connection is open now
    own_redis.kill()
    assert doorbell.bell_ring() is None  # Redis down: the caller wakes the worker for the event itself
    own_redis.start()
    assert doorbell.bell_ring() is True  # the first ring after the restart rings: a new connection
    doorbell.bell_answer()
    own_redis.kill()
    own_redis.start()  # restarted while nobody rang: the old socket is dead
    assert doorbell.bell_ring() is True


def test_a_drain_that_could_not_be_published_leaves_the_bell_clear(own_redis, monkeypatch):
    sent = []

    def broker_down(task, *args, countdown=None):
        sent.append(task.name)
        return False

    monkeypatch.setattr(wakeups, "_publish", broker_down)
    wakeups.events_stored_wakeup([1])
    wakeups.events_stored_wakeup([2])  # rings again: no drain is on its way
    assert sent == ["webhooks.tasks.events_drain", "webhooks.tasks.events_drain"]
