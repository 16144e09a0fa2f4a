"""``GET /core/v1/accounts/self``: Avito's User API "who am I" for the token's account (avito-api.md §11).

Live clients call it to learn the account id (the ``user_id`` of every messenger path)
from credentials alone. The token check before it is the same as for the messenger calls.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sandbox.http import Request, Response, json_response

if TYPE_CHECKING:
    from sandbox.app import SandboxApp


def get_self(app: SandboxApp, request: Request) -> Response:
    account = request.account
    return json_response({"id": account.user_id, "name": account.name, "email": account.email,
                          "phone": account.phone, "profile_url": account.profile_url})
