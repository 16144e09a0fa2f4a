"""Control hooks for tests and operators: stats, notification log, blacklist, reset and live config.

``POST /_sandbox/config`` is the fault-injection switchboard: change the rate limit, make
the next calls of an operation fail (before or after they take effect), slow every answer
down, or expire every token now. The whole body is validated before anything changes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sandbox.errors import validation_error
from sandbox.faults import parse_rule
from sandbox.http import Request, Response, json_response
from sandbox.options import parse_rate
from sandbox.query import bool_param

if TYPE_CHECKING:
    from sandbox.app import SandboxApp

HOOKS = ["POST /_sandbox/messages", "POST /_sandbox/chats", "POST /_sandbox/app_messages", "GET /_sandbox/stats",
         "GET /_sandbox/notifications", "GET /_sandbox/blacklist", "POST /_sandbox/reset",
         "GET /_sandbox/config", "POST /_sandbox/config", "GET /_sandbox/accounts", "POST /_sandbox/accounts",
         "POST /_sandbox/accounts/{user_id}", "POST /_sandbox/accounts/{user_id}/revoke",
         "POST /_sandbox/accounts/{user_id}/restore", "POST /_sandbox/notify"]
CONFIG_KEYS = ("rate", "fail_next", "clear_faults", "delay_ms", "expire_tokens", "token_ttl",
               "messages_wrapper", "probe_webhooks", "drop_notifications")


def index(app: SandboxApp, request: Request) -> Response:
    return json_response({"sandbox": "avito-messenger", "account_id": app.state.account_id,
                          "account_ids": list(app.accounts), "base_url": app.state.base_url, "hooks": HOOKS})


def _sizes(account) -> dict:
    state = account.state
    with state.lock:
        return {"chats": len(state.chats), "subscriptions": len(state.subscriptions),
                "messages": sum(len(chat.messages) for chat in state.chats.values())}


def stats(app: SandboxApp, request: Request) -> Response:
    """The totals (chats, messages and subscriptions: the primary account's) and ``accounts``, per account."""
    if bool_param(request.query, "wait", default=False):
        app.notifier.wait_idle()  # let queued notifications finish so their counters are final
    accounts = list(app.accounts.values())
    per_account = {str(account.user_id): {**app.stats.account_snapshot(account.user_id), **_sizes(account)}
                   for account in accounts}
    return json_response({**app.stats.snapshot(), **_sizes(app.primary), "accounts": per_account})


def notifications(app: SandboxApp, request: Request) -> Response:
    if bool_param(request.query, "wait", default=False):
        app.notifier.wait_idle()
    return json_response({"notifications": app.stats.notification_log()})


def blacklist(app: SandboxApp, request: Request) -> Response:
    """``?account_id=`` picks the account; the primary one by default."""
    raw = request.query.get("account_id", [""])[-1]
    if raw and not raw.isdigit():
        raise validation_error({"account_id": "must be an integer"})
    state = app.accounts.require(int(raw)).state if raw else app.state
    with state.lock:
        return json_response({"users": list(state.blacklist)})


def reset(app: SandboxApp, request: Request) -> Response:
    body = request.json_object(required=False)
    problems = {name: "must be a non-negative integer" for name in ("seed", "chats")
                if name in body and not (isinstance(body[name], int) and body[name] >= 0)}
    if problems:
        raise validation_error(problems)
    app.reset(seed=body.get("seed"), chats=body.get("chats"))
    return json_response({"ok": True, **_config(app)})


def get_config(app: SandboxApp, request: Request) -> Response:
    return json_response(_config(app))


def configure(app: SandboxApp, request: Request) -> Response:
    body = request.json_object()
    problems = {key: "unknown setting" for key in body if key not in CONFIG_KEYS}
    rate, rules = app.options.rate, []
    if "rate" in body:
        try:
            rate = parse_rate(body["rate"])
        except ValueError as exc:
            problems["rate"] = str(exc)
    if "fail_next" in body:
        specs = body["fail_next"] if isinstance(body["fail_next"], list) else [body["fail_next"]]
        try:
            rules = [parse_rule(spec) for spec in specs]
        except ValueError as exc:
            problems["fail_next"] = str(exc)
    if "drop_notifications" in body and not (isinstance(body["drop_notifications"], int)
                                             and not isinstance(body["drop_notifications"], bool)
                                             and body["drop_notifications"] >= 0):
        problems["drop_notifications"] = "must be a non-negative integer"
    for key in ("delay_ms", "token_ttl"):
        if key in body and not (isinstance(body[key], int) and body[key] >= (0 if key == "delay_ms" else 1)):
            problems[key] = "must be a non-negative integer" if key == "delay_ms" else "must be a positive integer"
    if "messages_wrapper" in body and body["messages_wrapper"] not in ("array", "object"):
        problems["messages_wrapper"] = "must be \"array\" or \"object\""
    if problems:
        raise validation_error(problems)

    if body.get("clear_faults"):
        app.faults.clear()
    if "rate" in body:
        app.set_rate(rate)
    for rule in rules:
        app.faults.add(rule)
    if "delay_ms" in body:
        app.faults.delay_ms = body["delay_ms"]
    if "token_ttl" in body:
        app.options.token_ttl = app.tokens.ttl = body["token_ttl"]
    if "messages_wrapper" in body:
        app.options.messages_wrapper = body["messages_wrapper"]
    if "probe_webhooks" in body:
        app.options.probe_webhooks = bool(body["probe_webhooks"])
    if "drop_notifications" in body:
        with app.state.lock:
            app.drop_notifications = body["drop_notifications"]
    expired = app.tokens.expire_all() if body.get("expire_tokens") else 0
    return json_response({**_config(app), "tokens_expired": expired})


def _config(app: SandboxApp) -> dict:
    rate = app.options.rate
    return {"account_id": app.state.account_id, "account_ids": list(app.accounts),
            "seed": app.options.seed, "chats": app.options.chats,
            "rate": f"{rate[0]}/{rate[1]:g}" if rate else None, "delay_ms": app.faults.delay_ms,
            "fail_next": app.faults.describe(), "token_ttl": app.tokens.ttl,
            "messages_wrapper": app.options.messages_wrapper, "probe_webhooks": app.options.probe_webhooks,
            "drop_notifications": app.drop_notifications,
            "client_credentials_checked": app.options.client_id is not None or app.options.client_secret is not None}
