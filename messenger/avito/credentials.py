"""Whose Avito account a client acts for: its credentials, user id, call limit and the key of its stores.

The messenger app knows nothing of the accounts app's model (accounts sits above messenger):
an account is handed to the Avito client as this plain value. `store_key` names the account's
token and rate-limit window in Redis and in the database: `default` (the environment's
account, whose keys and rows are those of the single-account gateway) or the account's id.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings

DEFAULT_STORE_KEY = "default"


@dataclass(frozen=True)
class AvitoCredentials:
    store_key: str
    client_id: str
    client_secret: str = field(repr=False)  # never in a repr, a log line or a traceback's locals
    user_id: int
    rate_limit_requests: int
    rate_limit_window: float


def environment_credentials() -> AvitoCredentials:
    """The environment's account (`default`): AVITO_* and RATE_LIMIT_* as settings read them now."""
    return AvitoCredentials(
        store_key=DEFAULT_STORE_KEY, client_id=settings.AVITO_CLIENT_ID,
        client_secret=settings.AVITO_CLIENT_SECRET, user_id=settings.AVITO_USER_ID,
        rate_limit_requests=settings.RATE_LIMIT_REQUESTS, rate_limit_window=settings.RATE_LIMIT_WINDOW,
    )
