"""Avito's side of the benchmarks: notifications shaped as Avito sends them, and the sandbox called directly.

`notification_body` builds Avito's v3 webhook body (avito-api.md §5.4) for a customer's
text message with a unique id, so every request is new work for the gateway rather than a
repeat it drops. `Sandbox` takes a token from the sandbox and lists its chats, for
benchmarks that need real chat ids or call the sandbox the way the gateway does.
"""
from __future__ import annotations

import json
import time
import uuid

import requests

from tests.e2e.stack import SANDBOX_ACCOUNT

TEXTS = ("Здравствуйте, ещё продаёте?", "Можно посмотреть сегодня вечером?", "Какая последняя цена?",
         "Доставка в Казань возможна?", "Добрый день! Торг уместен?")


def notification_body(*, message_id: str, chat_id: str, author_id: int = 94235311, item_id: int = 1768287444,
                      text: str | None = None) -> bytes:
    now = int(time.time())
    value = {"id": message_id, "chat_id": chat_id, "user_id": SANDBOX_ACCOUNT, "author_id": author_id,
             "created": now, "type": "text", "chat_type": chat_id.split("-", 1)[0] if "-" in chat_id else "u2i",
             "content": {"text": text or TEXTS[hash(message_id) % len(TEXTS)]}, "item_id": item_id,
             "published_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)), "read": None}
    body = {"id": str(uuid.uuid4()), "version": "v3.0.0", "timestamp": now,
            "payload": {"type": "message", "value": value}}
    return json.dumps(body, ensure_ascii=False).encode()


class Sandbox:
    def __init__(self, url: str, account: int = SANDBOX_ACCOUNT):
        self.url, self.account = url.rstrip("/"), account
        self.session = requests.Session()
        answer = self.session.post(f"{self.url}/token", data={
            "grant_type": "client_credentials", "client_id": "bench", "client_secret": "bench"}, timeout=10)
        answer.raise_for_status()
        self.token = answer.json()["access_token"]

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def chats(self, chat_types: str = "u2i,u2u") -> list[dict]:
        answer = self.session.get(f"{self.url}/messenger/v2/accounts/{self.account}/chats",
                                  params={"limit": 100, "chat_types": chat_types}, headers=self.auth, timeout=10)
        answer.raise_for_status()
        return answer.json()["chats"]

    def stats(self) -> dict:
        return self.session.get(f"{self.url}/_sandbox/stats", timeout=10).json()

    def configure(self, **settings) -> dict:
        answer = self.session.post(f"{self.url}/_sandbox/config", json=settings, timeout=10)
        answer.raise_for_status()
        return answer.json()


def customer_of(chat: dict, account: int = SANDBOX_ACCOUNT) -> tuple[int, int | None]:
    """(the other user's id, the item id) of an Avito chat object."""
    other = next((user["id"] for user in chat.get("users", []) if user.get("id") != account), 94235311)
    context = chat.get("context") or {}
    item = (context.get("value") or {}).get("id") if context.get("type") == "item" else None
    return other, item
