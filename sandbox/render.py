"""Renders the sandbox's records as Avito's JSON: chats, messages, send answers, webhook notifications.

Shapes follow avito-api.md §3.1, §4.1-4.4 and §5.4 field for field. Call these while
holding ``state.lock`` so a record cannot change halfway through.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sandbox.records import Chat, Message, User
from sandbox.state import SandboxState

AVATAR_SIZES = ("24x24", "36x36", "48x48", "64x64", "72x72", "96x96", "128x128", "192x192", "256x256")


def user_json(user: User, *, item_id: int | None = None) -> dict:
    stub = f"https://www.avito.st/stub_avatars/_/{user.avatar_stub}"
    profile: dict = {"user_id": user.id}
    if item_id is not None:  # the spec's item_id: the item this user published
        profile["item_id"] = item_id
    profile["url"] = f"https://www.avito.ru/user/{user.profile_hash}/profile"
    profile["avatar"] = {"default": f"{stub}_256x256.png",
                         "images": {size: f"{stub}_{size}.png" for size in AVATAR_SIZES}}
    return {"id": user.id, "name": user.name, "public_user_profile": profile}


def chat_json(state: SandboxState, chat: Chat) -> dict:
    body: dict = {"id": chat.id, "created": chat.created, "updated": chat.updated}
    if chat.item is not None:
        item = chat.item
        body["context"] = {"type": "item", "value": {
            "id": item.id, "title": item.title, "price_string": item.price_string,
            "status_id": item.status_id, "url": item.url, "user_id": item.user_id,
            "images": {"count": item.image_count,
                       "main": {"140x105": f"https://00.img.avito.st/image/1/140x105/{item.image_key}.jpg"}},
        }}
    users = []
    for user_id in (chat.peer_id, state.account_id):
        user = state.users.get(user_id)
        if user is not None:
            authored = chat.item is not None and chat.item.user_id == user_id
            users.append(user_json(user, item_id=chat.item.id if authored else None))
    body["users"] = users
    if chat.messages:
        body["last_message"] = last_message_json(state, chat.messages[-1])
    return body


def direction(state: SandboxState, message: Message) -> str:
    return "out" if message.author_id == state.account_id else "in"


def last_message_json(state: SandboxState, message: Message) -> dict:
    return {"id": message.id, "author_id": message.author_id, "created": message.created,
            "direction": direction(state, message), "type": message.type, "content": message.content}


def message_json(state: SandboxState, chat: Chat, message: Message) -> dict:
    body = {"id": message.id, "author_id": message.author_id, "created": message.created,
            "direction": direction(state, message), "type": message.type, "content": message.content,
            # is_read: read by the requesting account (its own messages count as read).
            "is_read": message.author_id == state.account_id or message.read_at is not None,
            "read": message.read_at}
    quoted = chat.message(message.quote_id) if message.quote_id else None
    if quoted is not None:
        body["quote"] = {"id": quoted.id, "author_id": quoted.author_id, "created": quoted.created,
                         "type": quoted.type, "content": quoted.content}
    return body


def send_text_answer(message: Message) -> dict:
    # postSendMessage's 200 schema has no author_id, unlike the image send below.
    return {"id": message.id, "created": message.created, "direction": "out",
            "type": message.type, "content": message.content}


def send_image_answer(message: Message) -> dict:
    return {"id": message.id, "author_id": message.author_id, "created": message.created,
            "direction": "out", "type": message.type, "content": message.content}


def rfc3339(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def notification_json(state: SandboxState, chat: Chat, message: Message, *, event_id: str) -> dict:
    """The v3 webhook body Avito POSTs to subscribers (avito-api.md §5.4)."""
    return {
        "id": event_id,
        "version": "v3.0.0",  # what real deliveries carry; the spec's example says "v1.1"
        "timestamp": state.now(),
        "payload": {"type": "message", "value": {
            "id": message.id, "chat_id": chat.id,
            "user_id": state.account_id,  # always the subscribed account, whoever wrote
            "author_id": message.author_id, "created": message.created, "type": message.type,
            "chat_type": chat.chat_type, "content": message.content,
            "item_id": chat.item.id if chat.chat_type == "u2i" and chat.item else None,
            "published_at": rfc3339(message.created), "read": None,
        }},
    }
