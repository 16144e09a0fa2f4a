"""Fixtures shared by the whole suite.

Every test runs with Avito credentials for a fake account, no Redis (unless a test asks
for it), no retry pauses, and a fresh Avito client, so no test leaks a token, a Session,
or a limiter into the next. `avito` mocks Avito's API at the one HTTP seam (`responses`) with
the token endpoint already answering.
"""
from __future__ import annotations

import pytest
import responses
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.core.cache import cache

from messenger.avito import reset_client

AVITO = "https://api.avito.ru"
USER_ID = 1234567


@pytest.fixture(autouse=True)
def gateway_settings(settings):
    settings.AVITO_API_BASE_URL = AVITO
    settings.AVITO_CLIENT_ID = "test-client"
    settings.AVITO_CLIENT_SECRET = "test-secret"
    settings.AVITO_USER_ID = USER_ID
    settings.REDIS_URL = ""
    settings.RATE_LIMIT_REQUESTS = 1000
    settings.RATE_LIMIT_WINDOW = 60
    settings.RETRY_BACKOFF_BASE = 0
    settings.MAX_RETRIES = 3
    settings.CONNECTION_TIMEOUT = 5
    settings.API_KEY = ""
    settings.N8N_WEBHOOK_URL = ""
    settings.N8N_WEBHOOK_SECRET = ""
    settings.AVITO_WEBHOOK_SECRET = ""
    settings.IMAGE_URL_ALLOW_PRIVATE = False
    settings.CALLBACK_ALLOWED_HOSTS = []
    settings.API_RATE_LIMIT = "600/m"
    settings.RECONCILE_INTERVAL = 0  # /health then says "disabled"; the reconcile tests turn it on
    cache.clear()  # the API rate limit counts in the cache: no test inherits another's calls
    reset_client()
    yield settings
    reset_client()


@pytest.fixture
def avito():
    """Avito's API, mocked: the token endpoint answers; register the calls a test expects."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.post(f"{AVITO}/token", json={"access_token": "tok-1", "expires_in": 86400, "token_type": "Bearer"})
        yield mock


@pytest.fixture
def redis_url():
    """The real Redis on this machine (database 15, emptied before and after)."""
    import redis

    url = "redis://127.0.0.1:6379/15"
    connection = redis.Redis.from_url(url)
    try:
        connection.ping()
    except redis.exceptions.ConnectionError:
        pytest.fail("Redis is not running on 127.0.0.1:6379 (the README says how to start it)")
    connection.flushdb()
    yield url
    connection.flushdb()


@pytest.fixture
def keep_test_connection():
    """Like Django's test client: the WSGI handler must not close the connection holding the test's transaction."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def eager():
    """Celery tasks run in the caller when queued, as a worker would run them (a countdown is not
    waited for: the row decides)."""
    from avitogw.celery import app

    saved = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager, app.conf.task_eager_propagates = True, True
    yield app
    app.conf.task_always_eager, app.conf.task_eager_propagates = saved
