"""Access tokens the sandbox issued, and whether a presented one is valid, unknown or expired.

Avito's tokens live 24 hours and an expired one gets HTTP 403 (avito-api.md §2); an
unknown or missing one gets 401 here. Tokens are random (not seeded) so a restarted
sandbox rejects tokens a gateway cached from the previous run, as Avito would after a revoke.
A token belongs to the account whose credentials fetched it.
"""

from __future__ import annotations

import secrets
import string
import threading
import time
from typing import Callable

_ALPHABET = string.ascii_letters + string.digits


def random_token() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(22))  # like Avito's "kChqt9ewQNAcwgbHp4yFd5"


class TokenStore:
    def __init__(self, *, ttl: int, clock: Callable[[], float] = time.time,
                 token_factory: Callable[[], str] = random_token):
        self.ttl = ttl
        self.clock = clock
        self.token_factory = token_factory
        self._lock = threading.Lock()
        self._expires_at: dict[str, float] = {}
        self._owner: dict[str, int] = {}  # token -> the account id it was issued for

    def issue(self, user_id: int) -> str:
        with self._lock:
            token = self.token_factory()
            self._expires_at[token] = self.clock() + self.ttl
            self._owner[token] = user_id
            return token

    def status(self, token: str) -> str:
        """"valid", "expired" or "unknown"."""
        with self._lock:
            expires_at = self._expires_at.get(token)
        if expires_at is None:
            return "unknown"
        return "valid" if self.clock() < expires_at else "expired"

    def owner(self, token: str) -> int | None:
        """The account id the token was issued for, or None for a token never issued."""
        with self._lock:
            return self._owner.get(token)

    def expire_all(self) -> int:
        with self._lock:
            now = self.clock()
            for token in self._expires_at:
                self._expires_at[token] = min(self._expires_at[token], now)
            return len(self._expires_at)
