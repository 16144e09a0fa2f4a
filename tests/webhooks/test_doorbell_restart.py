"""The webhook's wake-up bell (core.work.wakeups) after Redis restarts, and after a drain that
could not be published.

The Redis is a redis-server of the test's own on a free port (killed and started again);
the machine's shared Redis is never touched.
"""
from __future__ import annotations

import pytest

from core.work import wakeups
from tests.resilience.processes import RedisServer

pytestmark = pytest.mark.django_db
DRAIN = "webhooks.tasks.events_drain"


@pytest.fixture
def own_redis(tmp_path, settings):
    server = RedisServer(tmp_path).start()
    settings.REDIS_URL = server.url
    yield server
    server.kill()


@pytest.fixture
def published(monkeypatch):
    sent: list[str] = []

    def publish(task, *args, **options):
        sent.append(task)
        return True

    monkeypatch.setattr(wakeups, "wake_now", publish)
    return sent


def test_the_bell_works_at_once_after_redis_restarts_with_no_stale_socket(own_redis, published,
                                                                        django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        wakeups.wake_coalesced(DRAIN)
        wakeups.wake_coalesced(DRAIN)  # one wake-up is on its way: no second publish
    assert published == [DRAIN]
    own_redis.kill()
    with django_capture_on_commit_callbacks(execute=True):
        wakeups.wake_coalesced(DRAIN)  # Redis down: every wake-up is published
    assert published == [DRAIN, DRAIN]
    own_redis.start()  # a new server: the old bell and the old socket are gone
    with django_capture_on_commit_callbacks(execute=True):
        wakeups.wake_coalesced(DRAIN)
        wakeups.wake_coalesced(DRAIN)
    assert published == [DRAIN, DRAIN, DRAIN]  # the bell works again at once


def test_a_drain_that_could_not_be_published_leaves_the_bell_clear(own_redis, monkeypatch,
                                                                  django_capture_on_commit_callbacks):
    sent = []

    def broker_down(task, *args, **options):
        sent.append(task)
        return False

    monkeypatch.setattr(wakeups, "wake_now", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        wakeups.wake_coalesced(DRAIN)
        wakeups.wake_coalesced(DRAIN)  # rings again: no drain is on its way
    assert sent == [DRAIN, DRAIN]
