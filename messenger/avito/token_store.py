"""The Avito access token, shared by every process through Redis or, without Redis, the database.

Many processes may find the token missing at once (a fresh start, an expiry, a 403 from
Avito); only the one holding the fetch lease asks Avito, the others wait for the token it
writes. The lease is a conditional write (Redis `SET NX PX`, or an `UPDATE ... WHERE` on the
token row) owned by one fetch, not by a process, so two threads of one process also take
turns. It is short and renewed by a heartbeat while the fetch runs: a fetch may take long
(retries, rate-limit waits), but a process that dies while fetching blocks the rest for
only LEASE_SECONDS.
"""
from __future__ import annotations

import dataclasses
import json
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Callable, Protocol

from django.db import IntegrityError, connections, transaction

from messenger.avito.errors import AvitoUnavailable, database_failures_as_unavailable, redis_failures_as_unavailable

EXPIRY_MARGIN = 60.0  # seconds: a token this close to expiry is treated as expired
LEASE_SECONDS = 10.0  # life of a fetch lease between heartbeats
POLL_SECONDS = 0.05  # how often a waiting process looks for the token another one fetches


@dataclass(frozen=True)
class Token:
    access_token: str
    expires_at: float  # Unix time

    def seconds_left(self, now: float) -> float:
        return self.expires_at - now

    def usable(self, now: float) -> bool:
        return bool(self.access_token) and self.seconds_left(now) > EXPIRY_MARGIN


class TokenBackend(Protocol):
    def read(self) -> Token | None: ...
    def write(self, token: Token) -> None: ...
    def try_lease(self, owner: str, seconds: float) -> bool: ...
    def renew(self, owner: str, seconds: float) -> bool: ...
    def release(self, owner: str) -> None: ...


RELEASE_LUA = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"
RENEW_LUA = ("if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end "
             "return 0")


class RedisTokenBackend:
    def __init__(self, redis_client, prefix: str = "avitogw:avito:token"):
        self.redis, self.key, self.lease_key = redis_client, prefix, prefix + ":lease"
        self._release = redis_client.register_script(RELEASE_LUA)
        self._renew = redis_client.register_script(RENEW_LUA)

    @redis_failures_as_unavailable
    def read(self) -> Token | None:
        raw = self.redis.get(self.key)
        return Token(**json.loads(raw)) if raw else None

    @redis_failures_as_unavailable
    def write(self, token: Token) -> None:
        ttl = max(1, int(token.expires_at - time.time()))
        self.redis.set(self.key, json.dumps(dataclasses.asdict(token)), ex=ttl)

    @redis_failures_as_unavailable
    def try_lease(self, owner: str, seconds: float) -> bool:
        return bool(self.redis.set(self.lease_key, owner, nx=True, px=int(seconds * 1000)))

    @redis_failures_as_unavailable
    def renew(self, owner: str, seconds: float) -> bool:
        return bool(self._renew(keys=[self.lease_key], args=[owner, int(seconds * 1000)]))

    @redis_failures_as_unavailable
    def release(self, owner: str) -> None:
        self._release(keys=[self.lease_key], args=[owner])


class DatabaseTokenBackend:
    """One AvitoToken row per account (`account_key`), created by whoever first needs it."""

    def __init__(self, clock: Callable[[], float] = time.time, *, account_key: str = "default"):
        self.clock, self.account_key = clock, account_key

    def _row(self):
        from messenger.models import AvitoToken

        return AvitoToken.objects.filter(account_key=self.account_key)

    @database_failures_as_unavailable
    def read(self) -> Token | None:
        row = self._row().values("access_token", "expires_at").first()
        return Token(**row) if row and row["access_token"] else None

    @database_failures_as_unavailable
    def write(self, token: Token) -> None:
        from messenger.models import AvitoToken

        AvitoToken.objects.update_or_create(
            account_key=self.account_key,
            defaults={"access_token": token.access_token, "expires_at": token.expires_at})

    @database_failures_as_unavailable
    def try_lease(self, owner: str, seconds: float) -> bool:
        from messenger.models import AvitoToken

        now = self.clock()
        if self._row().filter(lease_until__lt=now).update(lease_owner=owner, lease_until=now + seconds):
            return True
        try:  # no row yet: the one process whose insert succeeds holds the lease
            with transaction.atomic():
                AvitoToken.objects.create(account_key=self.account_key, lease_owner=owner, lease_until=now + seconds)
            return True
        except IntegrityError:
            return False

    @database_failures_as_unavailable
    def renew(self, owner: str, seconds: float) -> bool:
        return self._row().filter(lease_owner=owner).update(lease_until=self.clock() + seconds) == 1

    @database_failures_as_unavailable
    def release(self, owner: str) -> None:
        self._row().filter(lease_owner=owner).update(lease_owner="", lease_until=0)


class MemoryTokenBackend:
    """A token kept by one object only: checking credentials that belong to no stored account yet."""

    def __init__(self):
        self.token: Token | None = None
        self.owner, self.lock = "", threading.Lock()

    def read(self) -> Token | None:
        return self.token

    def write(self, token: Token) -> None:
        self.token = token

    def try_lease(self, owner: str, seconds: float) -> bool:
        with self.lock:
            if self.owner:
                return False
            self.owner = owner
            return True

    def renew(self, owner: str, seconds: float) -> bool:
        return self.owner == owner

    def release(self, owner: str) -> None:
        with self.lock:
            if self.owner == owner:
                self.owner = ""


class LeaseHeartbeat:
    """Renews a fetch lease in a background thread until the fetch ends."""

    def __init__(self, backend: TokenBackend, owner: str, seconds: float):
        self.backend, self.owner, self.seconds = backend, owner, seconds
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, name="avito-token-lease", daemon=True)

    def _run(self) -> None:
        try:
            while not self.done.wait(self.seconds / 3):
                self.backend.renew(self.owner, self.seconds)
        finally:
            connections.close_all()  # this thread's own database connection, if it opened one

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc_info):
        self.done.set()
        self.thread.join()
        self.backend.release(self.owner)


class TokenStore:
    def __init__(self, backend: TokenBackend, fetch: Callable[[], Token], *, wait_timeout: float,
                 lease_seconds: float = LEASE_SECONDS, clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep):
        self.backend, self.fetch, self.wait_timeout = backend, fetch, wait_timeout
        self.lease_seconds, self.clock, self.sleep = lease_seconds, clock, sleep

    def current(self) -> Token | None:
        """The stored token, usable or not, without asking Avito."""
        return self.backend.read()

    def get(self) -> Token:
        """A usable token: the shared one, or a new one fetched by one process for all."""
        token = self.backend.read()
        if token and token.usable(self.clock()):
            return token
        return self._obtain(replace=None)

    def refresh(self, stale: str | None = None) -> Token:
        """A new token from Avito, unless another process already replaced `stale`.

        With `stale=None` the token in the store now is the one to replace.
        """
        if stale is None:
            current = self.backend.read()
            stale = current.access_token if current else ""
        return self._obtain(replace=stale)

    def _acceptable(self, token: Token | None, replace: str | None) -> bool:
        if not token or not token.usable(self.clock()):
            return False
        return replace is None or token.access_token != replace

    def _obtain(self, replace: str | None) -> Token:
        deadline = self.clock() + self.wait_timeout
        while True:
            owner = uuid.uuid4().hex
            if self.backend.try_lease(owner, self.lease_seconds):
                with LeaseHeartbeat(self.backend, owner, self.lease_seconds):
                    token = self.backend.read()  # someone may have finished just before our lease
                    if self._acceptable(token, replace):
                        return token
                    token = self.fetch()
                    self.backend.write(token)
                    return token
            self.sleep(POLL_SECONDS)
            token = self.backend.read()
            if self._acceptable(token, replace):
                return token
            if self.clock() > deadline:
                raise AvitoUnavailable("Timed out waiting for another process to fetch the Avito token.")
