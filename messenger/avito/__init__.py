"""The Avito clients of this process: the environment's account's, and one per other account.

`get_client()` returns the process's client of the environment's account (`default`: one
pooled Session, one in-flight cap). `client_for(credentials)` returns the client of any
account, built once per process and per credentials (new credentials, a new client). Each
account has its own token and its own rate-limit window in the stores, so one account's
calls never wait for another's. Clients are rebuilt in a forked child, since a Session must
not cross a fork. The token store and rate limiter live in Redis when REDIS_URL is set, with
the database behind it while Redis is down (store_failover), else in the database.
"""
from __future__ import annotations

import copy
import os
import threading
from typing import Any, Callable

from django.conf import settings

from core.singleton import PerProcess
from messenger.avito.client import AvitoClient
from messenger.avito.credentials import DEFAULT_STORE_KEY, AvitoCredentials, environment_credentials
from messenger.avito.rate_limiter import DatabaseWindowStore, RateLimiter, RedisWindowStore
from messenger.avito.store_failover import FailoverTokenBackend, FailoverWindowStore, RedisOutage
from messenger.avito.token_store import DatabaseTokenBackend, MemoryTokenBackend, RedisTokenBackend, TokenStore
from messenger.avito.transport import AvitoTransport, pooled_session

REDIS_PREFIX = "avitogw:avito"  # the default account's keys: `<prefix>:token`, `<prefix>:ratelimit`
PROBE_STORE_KEY = "probe"  # the call window of credential checks (no account's)

_outage: RedisOutage | None = None


def avito_settings_missing() -> list[str]:
    """The Avito settings a call needs that are not set (empty when the account is configured)."""
    wanted = {"AVITO_CLIENT_ID": settings.AVITO_CLIENT_ID, "AVITO_CLIENT_SECRET": settings.AVITO_CLIENT_SECRET,
              "AVITO_USER_ID": settings.AVITO_USER_ID}
    return [name for name, value in wanted.items() if not value]


def _redis_connect():
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    # One immediate retry (a pooled socket Redis closed when it restarted), not redis-py's
    # default backoff of seconds: a Redis that is down sends the call to the database at once.
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=5, socket_connect_timeout=5,
                                retry=Retry(NoBackoff(), 1))


_redis = PerProcess(_redis_connect)


def redis_connection():
    """The process's Redis connection (None without REDIS_URL)."""
    if not settings.REDIS_URL:
        return None
    return _redis.get()


def shared_store() -> str:
    """Where this process keeps the Avito token and call limit now: redis, database (no Redis
    configured, or Redis down)."""
    outage = _outage
    if not settings.REDIS_URL or outage is None:
        return "database" if not settings.REDIS_URL else "redis"
    return outage.store


def redis_prefix(credentials: AvitoCredentials) -> str:
    """The prefix of an account's Redis keys; the default account keeps the single-account keys."""
    if credentials.store_key == DEFAULT_STORE_KEY:
        return REDIS_PREFIX
    return f"{REDIS_PREFIX}:account:{credentials.store_key}"


def build_client(credentials: AvitoCredentials | None = None, *, token_backend=None) -> AvitoClient:
    """A new client of one account (the environment's by default): one Session, that account's token and limit.

    `token_backend`, when given, keeps the token instead of the shared stores (a credentials probe)."""
    global _outage
    credentials = credentials or environment_credentials()
    prefix, key = redis_prefix(credentials), credentials.store_key
    connection = redis_connection()
    if connection:
        if _outage is None:
            _outage = RedisOutage()  # one per process: every account's stores fail over together
        window_store = FailoverWindowStore(RedisWindowStore(connection, f"{prefix}:ratelimit"),
                                           DatabaseWindowStore(account_key=key), _outage)
        shared_token = FailoverTokenBackend(RedisTokenBackend(connection, f"{prefix}:token"),
                                            DatabaseTokenBackend(account_key=key), _outage)
    else:
        window_store, shared_token = DatabaseWindowStore(account_key=key), DatabaseTokenBackend(account_key=key)
    limiter = RateLimiter(window_store, limit=credentials.rate_limit_requests, window=credentials.rate_limit_window)
    transport = AvitoTransport(
        base_url=settings.AVITO_API_BASE_URL, session=pooled_session(settings.MAX_CONNECTIONS),
        token_store=None, rate_limiter=limiter, max_connections=settings.MAX_CONNECTIONS,
        timeout=settings.CONNECTION_TIMEOUT, max_retries=settings.MAX_RETRIES,
        backoff_base=settings.RETRY_BACKOFF_BASE,
    )
    client = AvitoClient(transport, user_id=credentials.user_id, client_id=credentials.client_id,
                         client_secret=credentials.client_secret)
    transport.token_store = TokenStore(token_backend or shared_token, client.fetch_token, wait_timeout=settings.CONNECTION_TIMEOUT)
    return client


_client: PerProcess[AvitoClient] = PerProcess(build_client)
# Other accounts' clients of this process, by credentials: changed credentials make a new client.
_account_clients: PerProcess[dict[AvitoCredentials, AvitoClient]] = PerProcess(dict)
_account_clients_lock = threading.Lock()


def get_client() -> AvitoClient:
    """The environment's account's client, built on first use (and again in a forked child)."""
    return _client.get()


def client_for(credentials: AvitoCredentials) -> AvitoClient:
    """The process's client of the account these credentials are (the default account's is get_client())."""
    if credentials == environment_credentials():
        return get_client()
    clients = _account_clients.get()
    with _account_clients_lock:
        client = clients.get(credentials)
        if client is None:
            for stale in [known for known in clients if known.store_key == credentials.store_key]:
                del clients[stale]  # the account's old credentials: their client is of no more use
            client = clients[credentials] = build_client(credentials)
        return client


def client_with_limiter(wrap: Callable[[RateLimiter], Any]) -> AvitoClient:
    """The process's client (its Session, in-flight cap and token) whose calls ask `wrap(limiter)`
    for their rate-limit slot instead: background work that takes a slot only when there is room."""
    shared = get_client()
    transport = copy.copy(shared.transport)
    transport.rate_limiter = wrap(shared.transport.rate_limiter)
    client = copy.copy(shared)
    client.transport = transport
    return client


def probe_client(*, client_id: str, client_secret: str) -> AvitoClient:
    """A client for credentials no account holds yet (checking them before an account is saved).

    Its token stays in the returned object, never in the shared stores; its calls count in a
    window of their own (store key `probe`), so checking new credentials delays no account."""
    credentials = AvitoCredentials(store_key=PROBE_STORE_KEY, client_id=client_id, client_secret=client_secret,
                                   user_id=0, rate_limit_requests=settings.RATE_LIMIT_REQUESTS,
                                   rate_limit_window=settings.RATE_LIMIT_WINDOW)
    return build_client(credentials, token_backend=MemoryTokenBackend())


def reset_client() -> None:
    """Forget the process's client (tests change settings between cases)."""
    global _outage
    _client.reset()
    _account_clients.reset()
    _redis.reset()
    _outage = None


def _forget_in_child() -> None:
    # The child builds its own client (PerProcess); until then its store is not the parent's outage.
    global _outage, _account_clients_lock
    _outage = None
    _account_clients_lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_in_child)
