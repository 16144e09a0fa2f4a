"""``POST /_sandbox/notify``: POST one notification to any URL, now, whatever it says.

For tests of a receiver's checks that Avito itself never trips: account A's message sent
to a URL account B subscribed, a ``payload.value.user_id`` that is not the URL's account,
or any raw body at all. Nothing is stored; the delivery is logged and counted in the
totals (no account's), and the answer says what the receiver answered.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

from sandbox.errors import ApiError, validation_error
from sandbox.http import Request, Response, json_response
from sandbox.render import notification_json

if TYPE_CHECKING:
    from sandbox.app import SandboxApp


def notify(app: SandboxApp, request: Request) -> Response:
    body = request.json_object()
    problems: dict[str, str] = {}
    url = body.get("url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        problems["url"] = "is required and must be an http(s) URL"
    if ("body" in body) == ("chat_id" in body):
        problems["body"] = "give either body (posted as is) or chat_id (a message's notification)"
    user_id = body.get("user_id")
    if user_id is not None and (not isinstance(user_id, int) or isinstance(user_id, bool)):
        problems["user_id"] = "must be an integer"
    for name in ("chat_id", "message_id"):
        if name in body and not (isinstance(body[name], str) and body[name]):
            problems[name] = "must be a non-empty string"
    if problems:
        raise validation_error(problems)
    posted = body["body"] if "body" in body else _message_notification(app, body)
    delivery = app.notifier.deliver_now(url, posted)
    return json_response({"delivery": delivery, "body": posted})


def _message_notification(app: SandboxApp, body: dict) -> dict:
    """The notification Avito would send of a stored message, with ``user_id`` replaced if asked."""
    account = app.accounts.with_chat(body["chat_id"])
    state = account.state
    with state.lock:
        chat = state.get_chat(body["chat_id"])
        message = chat.message(body["message_id"]) if "message_id" in body else (
            chat.messages[-1] if chat.messages else None)
        if message is None:
            raise ApiError(404, f"Not found: no such message in chat {chat.id}")
        rendered = copy.deepcopy(notification_json(state, chat, message, event_id=state.new_event_id()))
    if body.get("user_id") is not None:
        rendered["payload"]["value"]["user_id"] = body["user_id"]
    return rendered
