"""Fixtures of the incoming-webhook tests: n8n's URL and delivery settings, eager Celery.

`eager` runs Celery tasks in-process, so a POST to /webhook/avito travels the whole way
(store, process, deliver) inside one test, with Avito and n8n mocked by `responses`.
"""
from __future__ import annotations

import pytest

from tests.webhooks.avito_payloads import N8N_URL


@pytest.fixture
def n8n_settings(settings):
    settings.N8N_WEBHOOK_URL = N8N_URL
    settings.N8N_WEBHOOK_SECRET = ""
    settings.N8N_FORWARD_MAX_ATTEMPTS = 3
    settings.N8N_FORWARD_BACKOFF_BASE = 10
    settings.N8N_FORWARD_BACKOFF_MAX = 3600
    settings.EVENT_MAX_ATTEMPTS = 3
    settings.EVENT_BACKOFF_BASE = 10
    settings.EVENT_BACKOFF_MAX = 3600
    settings.FORWARD_OWN_MESSAGES = False
    return settings


@pytest.fixture(autouse=True)
def no_real_broker(request, monkeypatch):
    """A test here must never publish to the real broker (the developer's data/broker folder).

    Wake-ups run only in `eager` mode or are captured on commit; anything else would be a
    message a running worker might pick up against another database. The real-worker tests
    (marked redis) publish on purpose, to their own Redis database.
    """
    if request.node.get_closest_marker("redis"):
        yield
        return
    from celery import Celery

    published = []
    monkeypatch.setattr(Celery, "send_task", lambda self, name, *a, **k: published.append(name))
    yield
    assert not published, f"published to the real broker: {published}"
