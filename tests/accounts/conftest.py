"""Fixtures of the accounts tests: an encryption key, a DRF client, and Avito answering per credentials."""
from __future__ import annotations

from urllib.parse import parse_qs

import pytest
from cryptography.fernet import Fernet
from rest_framework.test import APIClient

from tests.avito.conftest import avito_redis, redis_prefix  # noqa: F401 - the per-test Redis keys
from tests.conftest import AVITO, USER_ID

KEY = Fernet.generate_key().decode()
B_USER, B_ID, B_SECRET = 7000002, "client-b", "secret-b-very-long"


@pytest.fixture(autouse=True)
def encryption_key(settings):
    settings.ENCRYPTION_KEYS = [KEY]
    return KEY


@pytest.fixture
def api():
    return APIClient()


class AvitoAccounts:
    """Avito's /token and /core/v1/accounts/self answering each known set of credentials as its own account."""

    def __init__(self, mock):
        self.mock = mock
        self.accounts = {("test-client", "test-secret"): (USER_ID, "Shop A"), (B_ID, B_SECRET): (B_USER, "Shop B")}
        self.tokens: dict[str, int] = {}
        self.revoked: set[int] = set()
        mock.remove("POST", f"{AVITO}/token")
        mock.add_callback("POST", f"{AVITO}/token", callback=self.token)
        mock.add_callback("GET", f"{AVITO}/core/v1/accounts/self", callback=self.self_)

    def token(self, request):
        form = {k: v[0] for k, v in parse_qs(request.body).items()}
        found = self.accounts.get((form.get("client_id"), form.get("client_secret")))
        if not found or found[0] in self.revoked:
            return 400, {}, '{"error": "invalid_client", "error_description": "invalid client credentials"}'
        token = f"tok-{found[0]}-{len(self.tokens)}"
        self.tokens[token] = found[0]
        return 200, {}, f'{{"access_token": "{token}", "expires_in": 86400, "token_type": "Bearer"}}'

    def self_(self, request):
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        user = self.tokens.get(token)
        if user is None or user in self.revoked:
            return 403, {}, '{"error": {"code": 403, "message": "forbidden"}}'
        name = next(n for (u, n) in self.accounts.values() if u == user)
        return 200, {}, f'{{"id": {user}, "name": "{name}", "email": "", "phone": "", "profile_url": ""}}'


@pytest.fixture
def avito_accounts(avito):
    return AvitoAccounts(avito)
