"""An account's Avito client: its row turned into messenger's AvitoCredentials, then `client_for` them.

The default account's credentials and limit are the environment's (accounts.environment), so
its client is `get_client()`'s, with the token and window keys of the single-account gateway.
Every other account's store key is its id: its own token row/key and its own call window.
"""
from __future__ import annotations

from django.conf import settings

from accounts.models import Account
from messenger.avito import client_for
from messenger.avito.client import AvitoClient
from messenger.avito.credentials import AvitoCredentials, environment_credentials


def credentials_of(account: Account) -> AvitoCredentials:
    if account.from_environment:
        return environment_credentials()
    return AvitoCredentials(
        store_key=str(account.pk), client_id=account.client_id, client_secret=account.client_secret_plain(),
        user_id=account.avito_user_id,
        rate_limit_requests=account.rate_limit_requests or settings.RATE_LIMIT_REQUESTS,
        rate_limit_window=account.rate_limit_window or settings.RATE_LIMIT_WINDOW,
    )


def client_of(account: Account) -> AvitoClient:
    """The process's client of this account (cached per account and credentials)."""
    return client_for(credentials_of(account))
