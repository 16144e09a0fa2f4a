"""``POST /messenger/v2/accounts/{user_id}/blacklist`` (avito-api.md §6).

Body ``{"users": [{"user_id", "context"?: {"item_id", "reason_id"}}]}`` where reason_id is
1 spam, 2 fraud, 3 insults, 4 other. Avito documents no answer body; the sandbox sends ``{}``.
Entries are kept so tests can read them at ``GET /_sandbox/blacklist``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sandbox.errors import validation_error
from sandbox.http import Request, Response, json_response

if TYPE_CHECKING:
    from sandbox.app import SandboxApp

REASONS = (1, 2, 3, 4)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _entry_problems(index: int, entry) -> dict[str, str]:
    where = f"users[{index}]"
    if not isinstance(entry, dict) or not _is_int(entry.get("user_id")):
        return {f"{where}.user_id": "is required and must be an integer"}
    context = entry.get("context")
    if context is None:
        return {}
    if not isinstance(context, dict):
        return {f"{where}.context": "must be an object"}
    problems = {}
    if "item_id" in context and not _is_int(context["item_id"]):
        problems[f"{where}.context.item_id"] = "must be an integer"
    if "reason_id" in context and not (_is_int(context["reason_id"]) and context["reason_id"] in REASONS):
        problems[f"{where}.context.reason_id"] = "must be 1 (spam), 2 (fraud), 3 (insults) or 4 (other)"
    return problems


def add_to_blacklist(app: SandboxApp, request: Request) -> Response:
    users = request.json_object().get("users")
    if not isinstance(users, list) or not users:
        raise validation_error({"users": "is required and must be a non-empty list"})
    problems: dict[str, str] = {}
    for index, entry in enumerate(users):
        problems.update(_entry_problems(index, entry))
    if problems:
        raise validation_error(problems)
    with request.account.state.lock:
        request.account.state.blacklist.extend(users)
    return json_response({})
