"""The Avito access token as the API and beat see it: read, force-refresh, refresh ahead of expiry."""
from __future__ import annotations

import logging
import time
from datetime import datetime, timezone

from django.conf import settings

from messenger.avito import get_client

logger = logging.getLogger(__name__)

REFRESH_AHEAD = 3600.0  # seconds before expiry when beat renews the token


def _describe(token, now: float) -> dict:
    return {
        "access_token": token.access_token,
        "token_type": "Bearer",
        "expires_in": max(0, int(token.expires_at - now)),
        "expires_at": datetime.fromtimestamp(token.expires_at, tz=timezone.utc).isoformat(),
    }


def token_get() -> dict:
    """The shared token (fetched from Avito if there is none yet)."""
    store = get_client().transport.token_store
    return _describe(store.get(), time.time())


def token_expiry() -> datetime | None:
    """When the shared token expires, read from the store without asking Avito (None: no token yet)."""
    current = get_client().transport.token_store.current()
    if current is None or not current.access_token:
        return None
    return datetime.fromtimestamp(current.expires_at, tz=timezone.utc)


def token_refresh() -> dict:
    """A new token from Avito, replacing the shared one."""
    store = get_client().transport.token_store
    return _describe(store.refresh(), time.time())


def token_refresh_ahead(*, ahead: float = REFRESH_AHEAD) -> bool:
    """Renew the token when it is missing or expires within `ahead` seconds; True if renewed."""
    if not (settings.AVITO_CLIENT_ID and settings.AVITO_CLIENT_SECRET):
        logger.info("Avito credentials not configured; skipping token refresh")
        return False
    store = get_client().transport.token_store
    current = store.current()
    if current and current.seconds_left(time.time()) > ahead:
        return False
    store.refresh(stale=current.access_token if current else "")
    return True


def token_seconds_left(*, now: float) -> float | None:
    """Seconds until the stored token expires (negative once it has), None when there is none; never asks Avito."""
    current = get_client().transport.token_store.current()
    return current.seconds_left(now) if current else None
