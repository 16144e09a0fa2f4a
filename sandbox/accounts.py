"""The Avito accounts the sandbox serves: who they are, which credentials fetch their tokens, their data.

By default there is one account (``--user-id``, and ``--client-id``/``--client-secret`` or
any credentials), exactly as before several accounts existed. ``--account`` and
``--accounts`` make several; then every account has credentials of its own (generated,
and printed at start, when not given), since a token must say which account it is for.
Each account keeps its own store (chats, subscriptions, media, blacklist), seeded
deterministically from the seed and its id, and its own rate-limit window.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Callable

from sandbox import seed_data
from sandbox.rate_limiter import SlidingWindowLimiter
from sandbox.seed import seed_state
from sandbox.state import SandboxState

# Names of the extra accounts; the first account keeps the seeded shop name of one-account use.
EXTRA_NAMES = ["Мебельный салон «Уют»", "Автозапчасти «Гараж 77»", "Детские товары «Карапуз»",
               "ИП Смирнова А. В.", "Спорттовары «Старт»", "Салон цветов «Флора»"]


@dataclass(frozen=True)
class AccountSpec:
    """One account as configured: credentials ``None`` accept any (one-account use only)."""
    user_id: int
    client_id: str | None = None
    client_secret: str | None = None
    name: str | None = None


def generated_credentials(user_id: int) -> tuple[str, str]:
    """Deterministic credentials, so tests and the printed start-up line agree without reading logs."""
    return f"client-{user_id}", f"secret-{user_id}"


def parse_account_spec(text: str) -> AccountSpec:
    """``USER_ID[:CLIENT_ID:CLIENT_SECRET[:NAME]]``; raises ValueError saying what is wrong."""
    parts = str(text).split(":", 3)
    if not parts[0].strip().isdigit() or int(parts[0]) <= 0:
        raise ValueError(f"--account wants USER_ID[:CLIENT_ID:CLIENT_SECRET[:NAME]] with a positive "
                         f"numeric USER_ID, got {text!r}")
    if len(parts) == 2 or (len(parts) >= 3 and not (parts[1] and parts[2])):
        raise ValueError(f"--account {text!r}: give both CLIENT_ID and CLIENT_SECRET, or neither")
    user_id = int(parts[0])
    client_id, client_secret = (parts[1], parts[2]) if len(parts) >= 3 else generated_credentials(user_id)
    return AccountSpec(user_id, client_id, client_secret, parts[3] if len(parts) == 4 and parts[3] else None)


def account_specs(*, user_id: int, client_id: str | None, client_secret: str | None,
                  listed: list[AccountSpec], count: int | None) -> list[AccountSpec]:
    """The start-up accounts from the flags (see docs/sandbox.md, 'Several accounts')."""
    if not listed and count is None:
        return [AccountSpec(user_id, client_id, client_secret)]
    if listed and (client_id is not None or client_secret is not None):
        raise ValueError("--client-id/--client-secret are for the single account; "
                         "give credentials in --account USER_ID:CLIENT_ID:CLIENT_SECRET")
    if count is not None and count < 1:
        raise ValueError("--accounts must be 1 or more")
    specs = list(listed)
    if not specs:
        generated = generated_credentials(user_id)
        specs.append(AccountSpec(user_id, client_id or generated[0], client_secret or generated[1]))
    next_id = max(spec.user_id for spec in specs) + 1
    while count is not None and len(specs) < count:
        specs.append(AccountSpec(next_id, *generated_credentials(next_id)))
        next_id += 1
    check_unique(specs)
    return specs


def check_unique(specs: list[AccountSpec]) -> None:
    ids = [spec.user_id for spec in specs]
    if len(set(ids)) != len(ids):
        raise ValueError(f"account ids must differ, got {ids}")
    client_ids = [spec.client_id for spec in specs if spec.client_id is not None]
    if len(set(client_ids)) != len(client_ids):
        raise ValueError("every account needs a client_id of its own")


def account_seed(seed: int, user_id: int, *, primary: bool) -> int:
    """The first account keeps ``seed`` itself (its data as in one-account use); others derive one."""
    if primary:
        return seed
    return int.from_bytes(hashlib.sha256(f"{seed}:{user_id}".encode()).digest()[:6], "big")


class Account:
    """One served account: identity, credentials, revocation, store and rate window."""

    def __init__(self, spec: AccountSpec, *, name: str, base_url: str, clock: Callable[[], float],
                 chats: int, seed: int, rate: tuple[int, float] | None):
        self.user_id = spec.user_id
        self.client_id, self.client_secret = spec.client_id, spec.client_secret
        self.name = name
        self.revoked = False
        self.chats, self.seed = chats, seed
        self.clock = clock
        self.state = SandboxState(account_id=spec.user_id, base_url=base_url, clock=clock)
        self.set_rate(rate)
        self.reseed()

    def reseed(self, *, chats: int | None = None, seed: int | None = None) -> None:
        self.chats = self.chats if chats is None else chats
        self.seed = self.seed if seed is None else seed
        with self.state.lock:
            self.state.clear()
            seed_state(self.state, chats=self.chats, seed=self.seed, account_name=self.name)

    def set_rate(self, rate: tuple[int, float] | None) -> None:
        self.rate = rate
        self.limiter = SlidingWindowLimiter(rate[0], rate[1], clock=self.clock) if rate else None

    @property
    def accepts_any_credentials(self) -> bool:
        return self.client_id is None and self.client_secret is None

    def credentials_match(self, client_id: str, client_secret: str) -> bool:
        return _same(client_id, self.client_id) and _same(client_secret, self.client_secret)

    @property
    def email(self) -> str:
        return f"account{self.user_id}@example.com"

    @property
    def phone(self) -> str:
        return f"79{self.user_id % 10**9:09d}"

    @property
    def profile_url(self) -> str:
        with self.state.lock:
            user = self.state.users.get(self.user_id)
        key = user.profile_hash if user else str(self.user_id)
        return f"https://www.avito.ru/user/{key}/profile"

    def describe(self) -> dict:
        rate = self.rate
        return {"user_id": self.user_id, "name": self.name, "client_id": self.client_id,
                "client_secret": self.client_secret, "revoked": self.revoked,
                "rate": f"{rate[0]}/{rate[1]:g}" if rate else None,
                "email": self.email, "phone": self.phone, "profile_url": self.profile_url}


def _same(given: str, expected: str | None) -> bool:
    return expected is None or hmac.compare_digest(given.encode(), expected.encode())


def default_name(index: int) -> str:
    if index == 0:
        return seed_data.ACCOUNT_NAME
    name = EXTRA_NAMES[(index - 1) % len(EXTRA_NAMES)]
    return name if index <= len(EXTRA_NAMES) else f"{name} {index}"
