"""The sandbox's URL table: Avito's paths exactly as in the OpenAPI files, plus ``/_sandbox/*`` hooks.

Each route names its Avito operationId (used by stats and fault injection). A path that
exists under another method gets 405; an unknown path gets 404, both in Avito's error shape.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from sandbox import api_auth, api_blacklist, api_chats, api_media, api_send, api_user, api_webhooks
from sandbox import control_accounts, control_admin, control_customers, control_notify
from sandbox.errors import ApiError
from sandbox.http import Request

ACCOUNT = "/messenger/{version}/accounts/{user_id}"


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern
    operation: str
    handler: Callable
    kind: str  # "token" (no bearer needed), "api" (Avito's checks apply) or "control" (no checks)


def _route(method: str, template: str, operation: str, handler: Callable, kind: str = "api") -> Route:
    """``{name}`` matches one path segment; a trailing ``/?`` makes the final slash optional."""
    optional_slash = template.endswith("/?")
    template = template[:-2] if optional_slash else template
    regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
    return Route(method, re.compile("^" + regex + ("/?" if optional_slash else "") + "$"), operation, handler, kind)


def _account(version: str, rest: str) -> str:
    return ACCOUNT.replace("{version}", version) + rest


ROUTES: list[Route] = [
    _route("POST", "/token/?", "getAccessToken", api_auth.get_access_token, kind="token"),
    _route("GET", _account("v2", "/chats"), "getChatsV2", api_chats.get_chats),
    _route("GET", _account("v2", "/chats/{chat_id}"), "getChatByIdV2", api_chats.get_chat),
    # The spec's path has a trailing slash; clients that drop it are served too.
    _route("GET", _account("v3", "/chats/{chat_id}/messages/?"), "getMessagesV3", api_chats.get_messages),
    _route("POST", _account("v1", "/chats/{chat_id}/messages"), "postSendMessage", api_send.send_message),
    # Before the {message_id} route, which would otherwise take "image" for a message id.
    _route("POST", _account("v1", "/chats/{chat_id}/messages/image"), "postSendImageMessage", api_send.send_image),
    _route("POST", _account("v1", "/chats/{chat_id}/messages/{message_id}"), "deleteMessage",
           api_send.delete_message),
    _route("POST", _account("v1", "/chats/{chat_id}/read"), "chatRead", api_chats.chat_read),
    _route("GET", _account("v1", "/getVoiceFiles"), "getVoiceFiles", api_media.get_voice_files),
    _route("POST", _account("v1", "/uploadImages"), "uploadImages", api_media.upload_images),
    _route("POST", "/messenger/v3/webhook", "postWebhookV3", api_webhooks.subscribe),
    _route("POST", "/messenger/v1/webhook/unsubscribe", "postWebhookUnsubscribe", api_webhooks.unsubscribe),
    _route("POST", "/messenger/v1/subscriptions", "getSubscriptions", api_webhooks.list_subscriptions),
    _route("POST", _account("v2", "/blacklist"), "postBlacklistV2", api_blacklist.add_to_blacklist),
    # Avito's User API (avito-api.md §11): the token's own account.
    _route("GET", "/core/v1/accounts/self", "getUserInfoSelf", api_user.get_self),
    # Control hooks: no token, no rate limit, not counted.
    _route("GET", "/_sandbox/?", "sandboxIndex", control_admin.index, kind="control"),
    _route("POST", "/_sandbox/messages", "sandboxCustomerMessage", control_customers.customer_message,
           kind="control"),
    _route("POST", "/_sandbox/chats", "sandboxCreateChat", control_customers.create_chat, kind="control"),
    _route("POST", "/_sandbox/app_messages", "sandboxAppMessage", control_customers.app_message, kind="control"),
    _route("POST", "/_sandbox/notify", "sandboxNotify", control_notify.notify, kind="control"),
    _route("GET", "/_sandbox/accounts", "sandboxAccounts", control_accounts.list_accounts, kind="control"),
    _route("POST", "/_sandbox/accounts", "sandboxAddAccount", control_accounts.add_account, kind="control"),
    _route("POST", "/_sandbox/accounts/{user_id}", "sandboxChangeAccount", control_accounts.change_account,
           kind="control"),
    _route("POST", "/_sandbox/accounts/{user_id}/revoke", "sandboxRevokeAccount", control_accounts.revoke,
           kind="control"),
    _route("POST", "/_sandbox/accounts/{user_id}/restore", "sandboxRestoreAccount", control_accounts.restore,
           kind="control"),
    _route("GET", "/_sandbox/stats", "sandboxStats", control_admin.stats, kind="control"),
    _route("GET", "/_sandbox/notifications", "sandboxNotifications", control_admin.notifications, kind="control"),
    _route("GET", "/_sandbox/blacklist", "sandboxBlacklist", control_admin.blacklist, kind="control"),
    _route("POST", "/_sandbox/reset", "sandboxReset", control_admin.reset, kind="control"),
    _route("GET", "/_sandbox/config", "sandboxConfig", control_admin.get_config, kind="control"),
    _route("POST", "/_sandbox/config", "sandboxConfigure", control_admin.configure, kind="control"),
    _route("GET", "/_sandbox/files/images/{image_id}/{size}", "sandboxImageFile", api_media.serve_image,
           kind="control"),
    _route("GET", "/_sandbox/files/voices/{voice_id}.mp4", "sandboxVoiceFile", api_media.serve_voice,
           kind="control"),
]


def match_route(routes: list[Route], request: Request) -> Route:
    """The route for this request, with ``request.path_params`` and ``operation`` filled in."""
    allowed: list[str] = []
    for route in routes:
        found = route.pattern.match(request.path)
        if found is None:
            continue
        if route.method != request.method:
            allowed.append(route.method)
            continue
        request.path_params = found.groupdict()
        request.operation = route.operation
        return route
    if allowed:
        raise ApiError(405, f"Method Not Allowed: use {', '.join(sorted(set(allowed)))}",
                       headers=[("Allow", ", ".join(sorted(set(allowed))))])
    raise ApiError(404, f"Not found: no such path {request.path}")
