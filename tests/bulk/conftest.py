"""Fixtures of the bulk tests: Celery run inline, and a stateful Avito behind `responses`.

`chats` answers Avito's send, upload and history calls from one in-memory store, so a
message a send stored is in the chat's history afterwards: exactly what the resolver
looks at. It can be told to fail the next sends, before or after storing the message.
"""
from __future__ import annotations

import itertools
import json
import re
import time

import pytest
import requests
from rest_framework.test import APIClient
from urllib3.exceptions import MaxRetryError, NewConnectionError

from tests.conftest import AVITO, USER_ID

ACCOUNT = f"/messenger/v1/accounts/{USER_ID}"
SEND_TEXT = re.compile(re.escape(AVITO + ACCOUNT) + r"/chats/([^/]+)/messages$")
SEND_IMAGE = re.compile(re.escape(AVITO + ACCOUNT) + r"/chats/([^/]+)/messages/image$")
UPLOAD = AVITO + ACCOUNT + "/uploadImages"
HISTORY = re.compile(re.escape(f"{AVITO}/messenger/v3/accounts/{USER_ID}") + r"/chats/([^/]+)/messages/")


class AvitoChats:
    def __init__(self, mock):
        self.history: dict[str, list[dict]] = {}
        self.faults: list[tuple[int, bool]] = []  # (status, after storing?) for the next sends
        self.history_down = False  # the message list answers 503 (so no check can see anything)
        self.ids = itertools.count(1)
        mock.add_callback("POST", SEND_TEXT, callback=self._send_text)
        mock.add_callback("POST", SEND_IMAGE, callback=self._send_image)
        mock.add_callback("POST", UPLOAD, callback=self._upload)
        mock.add_callback("GET", HISTORY, callback=self._history)

    def fail_next(self, status: int | str, *, after_commit: bool = False, count: int = 1) -> None:
        """Fail the next sends with this HTTP status, or "refused" (no connection: Avito never saw it)."""
        self.faults += [(status, after_commit)] * count

    def sent(self, chat_id: str | None = None) -> list[dict]:
        chats = [chat_id] if chat_id else list(self.history)
        return [m for chat in chats for m in self.history.get(chat, []) if m["direction"] == "out"]

    def texts(self) -> list[tuple[str, str]]:
        return sorted((chat, m["content"].get("text", "<image>")) for chat, messages in self.history.items()
                      for m in messages if m["direction"] == "out")

    def _store(self, request, chat_id: str, kind: str, content: dict):
        fault = self.faults.pop(0) if self.faults else None
        if fault and fault[0] == "refused":
            reason = NewConnectionError(None, "Failed to establish a new connection: [Errno 111] Connection refused")
            return requests.exceptions.ConnectionError(MaxRetryError(None, request.url, reason))
        if fault and not fault[1]:
            return fault[0], {}, json.dumps({"error": {"code": fault[0], "message": "injected before storing"}})
        message = {"id": f"m-{next(self.ids)}", "author_id": USER_ID, "created": int(time.time()),
                   "direction": "out", "type": kind, "content": content, "is_read": True}
        self.history.setdefault(chat_id, []).append(message)
        if fault:
            return fault[0], {}, json.dumps({"error": {"code": fault[0], "message": "injected after storing"}})
        return 200, {}, json.dumps(message)

    def _send_text(self, request):
        chat_id = SEND_TEXT.match(request.url).group(1)
        if chat_id.startswith("u2i-missing"):
            return 404, {}, json.dumps({"error": {"code": 404, "message": "Chat not found"}})
        return self._store(request, chat_id, "text", {"text": json.loads(request.body)["message"]["text"]})

    def _send_image(self, request):
        chat_id = SEND_IMAGE.match(request.url).group(1)
        image_id = json.loads(request.body)["image_id"]
        return self._store(request, chat_id, "image", {"image": {"sizes": {"1280x960": f"https://img/{image_id}"}}})

    def _upload(self, request):
        return 200, {}, json.dumps({"777.uploaded": {"1280x960": "https://img/777.uploaded"}})

    def _history(self, request):
        if self.history_down:
            return 503, {}, json.dumps({"error": {"code": 503, "message": "Service temporarily unavailable"}})
        chat_id = HISTORY.match(request.url.split("?")[0]).group(1)
        newest_first = list(reversed(self.history.get(chat_id, [])))
        return 200, {}, json.dumps({"messages": newest_first[:20], "meta": {"has_more": False}})


@pytest.fixture(autouse=True)
def callback_host_allowed(settings):
    """The tests' callback host (no DNS here): allowed by name, as an operator would list it."""
    settings.CALLBACK_ALLOWED_HOSTS = ["n8n.example.com"]


@pytest.fixture
def chats(avito):
    return AvitoChats(avito)


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def queued(monkeypatch):
    """Wake-ups are recorded instead of published: [(task name, args, options)]."""
    from core.work import wakeups

    calls = []
    monkeypatch.setattr(wakeups, "wake_now", lambda task, *args, **options: calls.append((task, args, options)))
    return calls
