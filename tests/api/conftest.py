"""Helpers for the REST API tests: a DRF client and Avito-shaped payloads (from shared/avito-api.md)."""
from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.conftest import AVITO, USER_ID

V1 = f"{AVITO}/messenger/v1/accounts/{USER_ID}"
V2 = f"{AVITO}/messenger/v2/accounts/{USER_ID}"
V3 = f"{AVITO}/messenger/v3/accounts/{USER_ID}"
CHAT = "u2i-y9ykWR1EkNOJJMaE9i9m8w"
CLIENT = 94235311
ITEM = 1768287444
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


def chat_obj(chat_id: str = CHAT, *, name: str = "Guldan", user: int = CLIENT, item: int | None = ITEM,
             text: str = "привет!") -> dict:
    context = {"type": "item", "value": {"id": item, "title": "Mazda 3 2008", "user_id": USER_ID}} if item else {}
    return {
        "id": chat_id, "created": 1571412836, "updated": 1571654040, "context": context,
        "users": [{"id": user, "name": name}, {"id": USER_ID, "name": "Shop"}],
        "last_message": {"id": "last-1", "author_id": user, "created": 1571654040, "direction": "in",
                         "type": "text", "content": {"text": text}},
    }


def message_obj(message_id: str, *, created: int, direction: str = "in", is_read: bool = False,
                text: str | None = "hi", type_: str = "text", content: dict | None = None) -> dict:
    return {"id": message_id, "author_id": CLIENT if direction == "in" else USER_ID, "created": created,
            "direction": direction, "type": type_, "content": content if content is not None else {"text": text},
            "is_read": is_read, "read": None}


def sent_obj(message_id: str = "sent-1", text: str = "hello") -> dict:
    return {"id": message_id, "created": 1563202313, "direction": "out", "type": "text", "content": {"text": text}}


def error_of(response) -> dict:
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}, body
    return body["error"]


@pytest.fixture
def api():
    return APIClient()
