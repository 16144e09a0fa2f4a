"""Control hooks that play the customer (``POST /_sandbox/messages``, ``POST /_sandbox/chats``)
and the seller typing in Avito's own app (``POST /_sandbox/app_messages``).

A simulated message lands in the chat like a real one (the chat becomes unread when a
customer wrote it) and Avito's v3 notification goes to every URL the chat's account
subscribed, unless the body says ``"notify": false``: Avito "forgets" it, as it sometimes does.
A message from the app is the account's own, exactly like an API send, echo included; only
the sandbox's records tell the two apart (``via``).
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
    from sandbox.accounts import Account
    from sandbox.app import SandboxApp
    from sandbox.state import SandboxState

CHAT_TYPES = ("u2i", "u2u", "a2u")


def _optional(body: dict, name: str, kind: type, problems: dict):
    value = body.get(name)
    if value is not None and (not isinstance(value, kind) or isinstance(value, bool)):
        problems[name] = f"must be a {kind.__name__}"
        return None
    return value


def _write(app: SandboxApp, account: Account, chat: Chat, body: dict, problems: dict, *,
           default_author: int, via: str, counter: str) -> tuple[dict, int]:
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
    state = account.state
    with state.lock:
        if content is None:
            content = make_content(kind, state=state, chat=chat, rng=state.rng, text=text)
        message = state.add_message(chat, author_id=default_author if author_id is None else author_id,
                                    type=kind, content=content, via=via)
        if via == "app":  # whoever answers in the app has the chat open: the customer's messages are read
            state.mark_read(chat)
        rendered = message_json(state, chat, message)
    app.stats.incr(counter, account=account.user_id)
    return rendered, app.publish(account, chat, message, notify=notify)


def _chat_of(app: SandboxApp, body: dict) -> tuple[Account, Chat]:
    """The chat ``chat_id`` names, in ``account_id``'s account when given (404 when not there)."""
    chat_id, account_id = body.get("chat_id"), body.get("account_id")
    problems = {}
    if not isinstance(chat_id, str) or not chat_id:
        problems["chat_id"] = "is required"
    if account_id is not None and (not isinstance(account_id, int) or isinstance(account_id, bool)):
        problems["account_id"] = "must be an account's integer id"
    if problems:
        raise validation_error(problems)
    account = app.accounts.with_chat(chat_id) if account_id is None else app.accounts.require(account_id)
    with account.state.lock:
        return account, account.state.get_chat(chat_id)


def customer_message(app: SandboxApp, request: Request) -> Response:
    body = request.json_object()
    account, chat = _chat_of(app, body)
    message, notified = _write(app, account, chat, body, {}, default_author=chat.peer_id, via="control",
                               counter="customer_messages")
    return json_response({"message": message, "notified": notified})


def app_message(app: SandboxApp, request: Request) -> Response:
    """The seller types in Avito's own app: an outgoing message the API never saw, echoed like any."""
    body = request.json_object()
    problems = {"author_id": "is always the account's own id here"} if "author_id" in body else {}
    account, chat = _chat_of(app, body)
    message, notified = _write(app, account, chat, body, problems, default_author=account.user_id, via="app",
                               counter="app_messages")
    return json_response({"message": message, "notified": notified, "account_id": account.user_id, "via": "app"})


def create_chat(app: SandboxApp, request: Request) -> Response:
    """A new chat with its first customer message (``text``, or a typical opener)."""
    body = request.json_object(required=False)
    problems: dict[str, str] = {}
    chat_type = body.get("chat_type", "u2i")
    if chat_type not in CHAT_TYPES:
        problems["chat_type"] = f"must be one of: {', '.join(CHAT_TYPES)}"
    account_id = _optional(body, "account_id", int, problems)
    user_name = _optional(body, "user_name", str, problems)
    user_id = _optional(body, "user_id", int, problems)
    item_id = _optional(body, "item_id", int, problems)
    item_title = _optional(body, "item_title", str, problems)
    price = _optional(body, "price", int, problems)
    text = _optional(body, "text", str, problems)
    account = app.primary if account_id is None else app.accounts.require(account_id)
    if user_id == account.user_id:
        problems["user_id"] = "must be the customer's id, not the account's own"
    if problems:
        raise validation_error(problems)
    state = account.state
    with state.lock:
        if chat_type == "a2u":
            peer = avito_user()
        else:
            peer = new_person(state)
            peer.id, peer.name = user_id or peer.id, user_name or peer.name
        item = _chat_item(state, item_id, item_title, price) if chat_type == "u2i" else None
        now = state.now()
        chat = state.add_chat(Chat(state.new_chat_id(chat_type), chat_type, now, now, peer.id, item), peer)
    first = {"type": "system" if chat_type == "a2u" else "text",
             "text": text or state.rng.choice(seed_data.CUSTOMER_OPENERS), "notify": body.get("notify", True)}
    message, notified = _write(app, account, chat, first, {}, default_author=chat.peer_id, via="control",
                               counter="customer_messages")
    with state.lock:
        rendered = chat_json(state, chat)
    return json_response({"chat": rendered, "message": message, "notified": notified})


def _chat_item(state: SandboxState, item_id: int | None, title: str | None, price: int | None) -> Item:
    """The account's item with ``item_id`` if a chat already has it, else a new one."""
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
