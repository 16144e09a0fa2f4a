"""``POST /token``: Avito's client_credentials grant (avito-api.md §2, auth.openapi.json).

The token is for the account whose ``client_id`` it is (several accounts: see
sandbox/accounts.py); with one account, any client id and secret are accepted unless the
sandbox was started with ``--client-id``/``--client-secret``. Credentials of a revoked
account are refused. Bad-credential and bad-request bodies are OAuth-style, an assumption
since Avito documents none.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sandbox.errors import oauth_error
from sandbox.http import Request, Response, json_response

if TYPE_CHECKING:
    from sandbox.app import SandboxApp

REQUIRED_FIELDS = ("grant_type", "client_id", "client_secret")


def get_access_token(app: SandboxApp, request: Request) -> Response:
    app.stats.incr("token_requests")
    if request.content_type != "application/x-www-form-urlencoded":
        raise oauth_error("invalid_request", "the body must be application/x-www-form-urlencoded "
                                             "with grant_type, client_id and client_secret")
    form = request.form()
    missing = [name for name in REQUIRED_FIELDS if not form.get(name)]
    if missing:
        raise oauth_error("invalid_request", f"missing parameter(s): {', '.join(missing)}")
    if form["grant_type"] != "client_credentials":
        raise oauth_error("unsupported_grant_type", "the sandbox supports grant_type=client_credentials only")
    account = app.accounts.for_credentials(form["client_id"])
    if account is None or not account.credentials_match(form["client_id"], form["client_secret"]):
        raise oauth_error("invalid_client", "client_id or client_secret is wrong")
    if account.revoked:
        raise oauth_error("invalid_client", "these client credentials have been revoked")
    token = app.tokens.issue(account.user_id)
    app.stats.incr("tokens_issued", account=account.user_id)
    return json_response({"access_token": token, "expires_in": app.tokens.ttl, "token_type": "Bearer"})
