"""Avito-shaped payloads for the webhook tests, taken from avito-api.md (§3.1 chat, §5.4 notification).

`notification(...)` builds Avito's v3 webhook body for any message type and author.
"""
from __future__ import annotations

import itertools
import json

from tests.conftest import AVITO, USER_ID

N8N_URL = "https://n8n.example.com/webhook/avito-in"
CUSTOMER_ID = 94235311
CHAT_ID = "u2i-y9ykWR1EkNOJJMaE9i9m8w"
ITEM_ID = 1768287444
_ids = itertools.count(1)


def avito_message(*, type="text", content=None, author_id=CUSTOMER_ID, chat_id=CHAT_ID, message_id=None,
                  created=1718000000, chat_type="u2i", item_id=ITEM_ID, read=None) -> dict:
    """`payload.value` of Avito's notification."""
    return {
        "id": message_id or f"4f8d8b0c1e2a4b6c8d0e1f2a3b4c{next(_ids):04d}",
        "chat_id": chat_id, "user_id": USER_ID, "author_id": author_id, "created": created, "type": type,
        "chat_type": chat_type, "content": {"text": "Здравствуйте, ещё продаёте?"} if content is None else content,
        "item_id": item_id, "published_at": "2024-06-10T06:13:20Z", "read": read,
    }


def notification(**message) -> dict:
    value = avito_message(**message)
    return {"id": f"5e9f2a1c-{value['id'][-8:]}", "version": "v3.0.0", "timestamp": 1718000000,
            "payload": {"type": "message", "value": value}}


def avito_chat(*, chat_id=CHAT_ID, name="Guldan", customer_id=CUSTOMER_ID) -> dict:
    """Avito's chat object (getChatByIdV2), with the customer and the account as users."""
    return {
        "id": chat_id, "created": 1571412836, "updated": 1571654040,
        "context": {"type": "item", "value": {"id": ITEM_ID, "title": "Mazda 3 2008", "url": "https://avito.ru/x",
                                               "user_id": USER_ID}},
        "users": [{"id": customer_id, "name": name}, {"id": USER_ID, "name": "Автосалон"}],
        "last_message": {"id": "older", "author_id": customer_id, "created": 1571654040, "direction": "in",
                         "type": "text", "content": {"text": "привет!"}},
    }


def chat_url(chat_id=CHAT_ID) -> str:
    return f"{AVITO}/messenger/v2/accounts/{USER_ID}/chats/{chat_id}"


VOICE_URL = f"{AVITO}/messenger/v1/accounts/{USER_ID}/getVoiceFiles"


def post_notification(client, body, path="/webhook/avito"):
    data = body if isinstance(body, (bytes, str)) else json.dumps(body, ensure_ascii=False)
    return client.post(path, data=data, content_type="application/json")


