"""Control hooks for the served accounts: list them, add one, change one, revoke and restore credentials.

Revoking makes an account's credentials fail the way Avito's do when a seller's keys stop
working: ``/token`` refuses them (OAuth ``invalid_client``) and the account's tokens get 401;
the other accounts are untouched. Restoring undoes both.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sandbox.accounts import AccountSpec, check_unique, generated_credentials
from sandbox.errors import ApiError, validation_error
from sandbox.http import Request, Response, json_response
from sandbox.options import parse_rate

if TYPE_CHECKING:
    from sandbox.accounts import Account
    from sandbox.app import SandboxApp

ADD_FIELDS = ("user_id", "client_id", "client_secret", "name", "chats", "seed", "rate")


def account_json(app: SandboxApp, account: Account) -> dict:
    return {**account.describe(), "primary": account is app.primary}


def list_accounts(app: SandboxApp, request: Request) -> Response:
    return json_response({"accounts": [account_json(app, account) for account in list(app.accounts.values())]})


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _string(body: dict, name: str, problems: dict) -> str | None:
    value = body.get(name)
    if value is not None and (not isinstance(value, str) or not value):
        problems[name] = "must be a non-empty string"
        return None
    return value


def _rate(body: dict, problems: dict):
    try:
        return parse_rate(body["rate"])
    except ValueError as exc:
        problems["rate"] = str(exc)
        return None


def add_account(app: SandboxApp, request: Request) -> Response:
    body = request.json_object(required=False)
    problems: dict[str, str] = {key: "unknown field" for key in body if key not in ADD_FIELDS}
    user_id = body.get("user_id", max(app.accounts) + 1)
    if not _is_int(user_id) or user_id <= 0:
        problems["user_id"] = "must be a positive integer"
    for name in ("chats", "seed"):
        if name in body and not (_is_int(body[name]) and body[name] >= 0):
            problems[name] = "must be a non-negative integer"
    client_id, client_secret = _string(body, "client_id", problems), _string(body, "client_secret", problems)
    if (client_id is None) != (client_secret is None):
        problems["client_secret" if client_id else "client_id"] = "give both client_id and client_secret, or neither"
    name = _string(body, "name", problems)
    rate = _rate(body, problems) if "rate" in body else None
    if problems:
        raise validation_error(problems)
    if client_id is None:
        client_id, client_secret = generated_credentials(user_id)
    spec = AccountSpec(user_id, client_id, client_secret, name)
    try:
        check_unique([*(AccountSpec(a.user_id, a.client_id) for a in app.accounts.values()), spec])
    except ValueError as exc:
        raise ApiError(409, f"Conflict: {exc}")
    account = app.add_account(spec, chats=body.get("chats"), seed=body.get("seed"),
                              **({"rate": rate} if "rate" in body else {}))
    return json_response({"account": account_json(app, account)})


def change_account(app: SandboxApp, request: Request) -> Response:
    """``{"revoked"?: bool, "rate"?: "N/W" | null, "name"?: str}``; everything validated first."""
    account = _account(app, request)
    body = request.json_object()
    problems: dict[str, str] = {key: "unknown field" for key in body if key not in ("revoked", "rate", "name")}
    if "revoked" in body and not isinstance(body["revoked"], bool):
        problems["revoked"] = "must be true or false"
    name = _string(body, "name", problems)
    rate = _rate(body, problems) if "rate" in body else None
    if problems:
        raise validation_error(problems)
    if "revoked" in body:
        account.revoked = body["revoked"]
    if "rate" in body:
        account.set_rate(rate)
    if name is not None:
        account.name = name
        with account.state.lock:
            account.state.users[account.user_id].name = name
    return json_response({"account": account_json(app, account)})


def revoke(app: SandboxApp, request: Request) -> Response:
    account = _account(app, request)
    account.revoked = True
    return json_response({"account": account_json(app, account)})


def restore(app: SandboxApp, request: Request) -> Response:
    account = _account(app, request)
    account.revoked = False
    return json_response({"account": account_json(app, account)})


def _account(app: SandboxApp, request: Request) -> Account:
    raw = request.path_params["user_id"]
    if not raw.isdigit():
        raise validation_error({"user_id": "must be an integer"})
    return app.accounts.require(int(raw))
