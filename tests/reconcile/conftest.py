"""Fixtures of the reconciliation tests: Avito's chat and message lists mocked, a fixed clock, eager Celery.

A run's events are processed and delivered in the test (Celery eager, on-commit callbacks
executed), so a test sees what n8n would receive.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from tests.conftest import AVITO, USER_ID
from tests.webhooks.avito_payloads import N8N_URL

NOW = datetime(2025, 12, 1, 17, 30, tzinfo=timezone.utc)
CHATS_URL = f"{AVITO}/messenger/v2/accounts/{USER_ID}/chats"
CUSTOMER = 94235311


def unix(moment: datetime) -> int:
    return int(moment.timestamp())


def messages_url(chat_id: str) -> str:
    return f"{AVITO}/messenger/v3/accounts/{USER_ID}/chats/{chat_id}/messages/"


def chat(chat_id: str, *, updated: datetime, name: str = "Guldan", item: int = 1768287444,
         last: dict | None = None) -> dict:
    """Avito's chat object (avito-api.md §3.1); its `last_message` is `last` (a v3 list entry),
    or else a message of its own written at `updated`."""
    last = last or message(f"{chat_id}-last", created=updated, text="…")
    return {"id": chat_id, "created": unix(updated) - 86400, "updated": unix(updated),
            "context": {"type": "item", "value": {"id": item, "title": "Mazda 3 2008", "user_id": USER_ID}},
            "users": [{"id": CUSTOMER, "name": name}, {"id": USER_ID, "name": "Shop"}],
            "last_message": {key: last[key] for key in ("id", "author_id", "created", "direction", "type", "content")}}


def message(message_id: str, *, created: datetime, text: str = "Здравствуйте", own: bool = False) -> dict:
    """A v3 list entry (avito-api.md §4.1)."""
    return {"id": message_id, "author_id": USER_ID if own else CUSTOMER, "created": unix(created),
            "direction": "out" if own else "in", "type": "text", "content": {"text": text},
            "is_read": False, "read": None}


@pytest.fixture
def clock():
    class Clock:
        now = NOW

        def __call__(self) -> datetime:
            return self.now

        def advance(self, seconds: float) -> None:
            self.now += timedelta(seconds=seconds)
    return Clock()


@pytest.fixture
def reconcile_settings(settings):
    settings.N8N_WEBHOOK_URL = N8N_URL
    settings.N8N_FORWARD_MAX_ATTEMPTS = 3
    settings.EVENT_MAX_ATTEMPTS = 3
    settings.FORWARD_OWN_MESSAGES = False
    settings.RECONCILE_INTERVAL = 60
    settings.MAX_RETRIES = 0
    return settings


@pytest.fixture
def n8n(avito):
    """n8n's webhook answers 200; `n8n.bodies()` is what it received."""
    avito.post(N8N_URL, json={"ok": True})

    class N8n:
        @staticmethod
        def bodies() -> list[dict]:
            return [json.loads(call.request.body) for call in avito.calls if call.request.url == N8N_URL]
    return N8n()


@pytest.fixture
def run(clock, django_capture_on_commit_callbacks):
    """One reconciliation run at the clock's time, its events processed and delivered."""
    from reconcile.services import reconcile_run

    def go(**kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return reconcile_run(clock=clock, **kwargs)
    return go


def avito_calls(avito, prefix: str) -> list:
    return [call for call in avito.calls if call.request.url.startswith(prefix)]
