"""Control hooks that play the customer: ``POST /_sandbox/messages`` and ``POST /_sandbox/chats``.

A simulated message lands in the chat like a real one (the chat becomes unread when a
customer wrote it) and Avito's v3 notification goes to every subscribed URL, unless the
body says ``"notify": false``: Avito "forgets" it, as it sometimes does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sandbox import seed_data
from sandbox.content import WEBHOOK_TYPES, format_price, make_content
from sandbox.errors import validation_error
from sandbox.http import Request, Response, json_response
from sandbox.records import Chat, Item
from sandbox.render import chat_json, message_json
from sandbox.seed import avito_user, new_item, new_person

if TYPE_CHECKING:
    from sandbox.app import SandboxApp

CHAT_TYPES = ("u2i", "u2u", "a2u")


def _optional(body: dict, name: str, kind: type, problems: dict):
    value = body.get(name)
    if value is not None and (not isinstance(value, kind) or isinstance(value, bool)):
        problems[name] = f"must be a {kind.__name__}"
        return None
    return value


def _write(app: SandboxApp, chat: Chat, body: dict, problems: dict) -> tuple[dict, int]:
    """Store the message ``body`` describes in ``chat``, notify, and render it."""
    kind = body.get("type") or "text"
    if kind not in WEBHOOK_TYPES:
        problems["type"] = f"must be one of: {', '.join(WEBHOOK_TYPES)}"
    text = _optional(body, "text", str, problems)
    author_id = _optional(body, "author_id", int, problems)
    content = _optional(body, "content", dict, problems)
    notify = body.get("notify", True)
    if not isinstance(notify, bool):
        problems["notify"] = "must be true or false"
    if problems:
        raise validation_error(problems)
    state = app.state
    with state.lock:
        if content is None:
            content = make_content(kind, state=state, chat=chat, rng=state.rng, text=text)
        message = state.add_message(chat, author_id=chat.peer_id if author_id is None else author_id,
                                    type=kind, content=content)
        rendered = message_json(state, chat, message)
    app.stats.incr("customer_messages")
    return rendered, app.publish(chat, message, notify=notify)


def customer_message(app: SandboxApp, request: Request) -> Response:
    body = request.json_object()
    chat_id = body.get("chat_id")
    if not isinstance(chat_id, str) or not chat_id:
        raise validation_error({"chat_id": "is required"})
    with app.state.lock:
        chat = app.state.get_chat(chat_id)
    message, notified = _write(app, chat, body, {})
    return json_response({"message": message, "notified": notified})


def create_chat(app: SandboxApp, request: Request) -> Response:
    """A new chat with its first customer message (``text``, or a typical opener)."""
    body = request.json_object(required=False)
    problems: dict[str, str] = {}
    chat_type = body.get("chat_type", "u2i")
    if chat_type not in CHAT_TYPES:
        problems["chat_type"] = f"must be one of: {', '.join(CHAT_TYPES)}"
    user_name = _optional(body, "user_name", str, problems)
    user_id = _optional(body, "user_id", int, problems)
    item_id = _optional(body, "item_id", int, problems)
    item_title = _optional(body, "item_title", str, problems)
    price = _optional(body, "price", int, problems)
    text = _optional(body, "text", str, problems)
    if user_id == app.state.account_id:
        problems["user_id"] = "must be the customer's id, not the account's own"
    if problems:
        raise validation_error(problems)
    state = app.state
    with state.lock:
        if chat_type == "a2u":
            peer = avito_user()
        else:
            peer = new_person(state)
            peer.id, peer.name = user_id or peer.id, user_name or peer.name
        item = _chat_item(app, item_id, item_title, price) if chat_type == "u2i" else None
        now = state.now()
        chat = state.add_chat(Chat(state.new_chat_id(chat_type), chat_type, now, now, peer.id, item), peer)
    first = {"type": "system" if chat_type == "a2u" else "text",
             "text": text or state.rng.choice(seed_data.CUSTOMER_OPENERS), "notify": body.get("notify", True)}
    message, notified = _write(app, chat, first, {})
    with state.lock:
        rendered = chat_json(state, chat)
    return json_response({"chat": rendered, "message": message, "notified": notified})


def _chat_item(app: SandboxApp, item_id: int | None, title: str | None, price: int | None) -> Item:
    """The account's item with ``item_id`` if a chat already has it, else a new one."""
    state = app.state
    for chat in state.chats.values():
        if item_id is not None and chat.item is not None and chat.item.id == item_id:
            return chat.item
    item = new_item(state, owner=state.account_id)
    if item_id is not None:
        item.id = item_id
    if title:
        item.title = title
    if price is not None:
        item.price_string = format_price(price)
    return item
