"""Fixtures for the sandbox tests: an in-process sandbox with a fake clock, a WSGI client, a webhook receiver.

Nothing here needs Django or a database; the tests run with or without pytest-django.
"""

from __future__ import annotations

import pytest

from sandbox.app import SandboxApp
from sandbox.options import SandboxOptions
from sandbox_testkit import ACCOUNT_ID, BASE_URL, FakeClock, WebhookReceiver, WsgiClient


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(1_760_000_000.0)


@pytest.fixture
def sleeps() -> list[float]:
    """Every sleep the sandbox asked for (delays, hangs), instead of really sleeping."""
    return []


@pytest.fixture
def make_app(clock, sleeps):
    apps: list[SandboxApp] = []

    def build(**overrides) -> SandboxApp:
        options = SandboxOptions(user_id=ACCOUNT_ID, public_url=BASE_URL, chats=30, seed=1)
        for name, value in overrides.items():
            setattr(options, name, value)
        app = SandboxApp(options, clock=clock, sleep=sleeps.append)
        apps.append(app)
        return app

    yield build
    for app in apps:
        app.notifier.shutdown()


@pytest.fixture
def app(make_app) -> SandboxApp:
    return make_app()


@pytest.fixture
def client(app) -> WsgiClient:
    """A client already holding a valid token."""
    client = WsgiClient(app)
    client.login()
    return client


@pytest.fixture
def receiver():
    receiver = WebhookReceiver()
    receiver.start()
    yield receiver
    receiver.stop()
