"""Reading chats and messages: chats v2 (list, one chat), messages v3, and marking a chat read.

Limits are Avito's: ``limit`` 1..100 (default 100), ``offset`` 0..1000, and ``chat_types``
defaults to ``u2i`` only, so a client that wants u2u chats must ask for them (avito-api.md §3-4).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sandbox.http import Request, Response, json_response
from sandbox.query import bool_param, enum_list_param, int_list_param, int_param, read_params
from sandbox.render import chat_json, message_json

if TYPE_CHECKING:
    from sandbox.app import SandboxApp

CHAT_TYPES = ("u2i", "u2u", "a2u")


def _paging(request: Request) -> dict:
    return {"limit": lambda: int_param(request.query, "limit", default=100, minimum=1, maximum=100),
            "offset": lambda: int_param(request.query, "offset", default=0, minimum=0, maximum=1000)}


def get_chats(app: SandboxApp, request: Request) -> Response:
    query = request.query
    params = read_params(
        **_paging(request),
        unread_only=lambda: bool_param(query, "unread_only", default=False),
        chat_types=lambda: enum_list_param(query, "chat_types", allowed=CHAT_TYPES, default=["u2i"]),
        item_ids=lambda: int_list_param(query, "item_ids"),
    )
    state = request.account.state
    with state.lock:
        chats, has_more = state.list_chats(**params)
        body = {"chats": [chat_json(state, chat) for chat in chats], "meta": {"has_more": has_more}}
    return json_response(body)


def get_chat(app: SandboxApp, request: Request) -> Response:
    state = request.account.state
    with state.lock:
        return json_response(chat_json(state, state.get_chat(request.path_params["chat_id"])))


def get_messages(app: SandboxApp, request: Request) -> Response:
    page = read_params(**_paging(request))
    state = request.account.state
    with state.lock:
        chat = state.get_chat(request.path_params["chat_id"])
        messages, has_more = state.list_messages(chat, **page)
        rendered = [message_json(state, chat, message) for message in messages]
    # Avito's spec says a bare array; clients read {"messages": [...]}. Which one is configurable.
    if app.options.messages_wrapper == "array":
        return json_response(rendered)
    return json_response({"messages": rendered, "meta": {"has_more": has_more}})


def chat_read(app: SandboxApp, request: Request) -> Response:
    state = request.account.state
    with state.lock:
        state.mark_read(state.get_chat(request.path_params["chat_id"]))
    return json_response({"ok": True})
