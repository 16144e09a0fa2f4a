"""A client per account: its own credentials, token (row or Redis key) and call window; get_client() stays default's."""
from __future__ import annotations

import pytest

from accounts.avito_clients import client_of, credentials_of
from accounts.environment import default_account_sync
from accounts.models import Account
from messenger.avito import errors, get_client, redis_connection
from messenger.models import AvitoToken, RateLimitCall
from tests.accounts.conftest import B_ID, B_SECRET, B_USER
from tests.conftest import AVITO, USER_ID

pytestmark = pytest.mark.django_db


def account_b(**fields) -> Account:
    account = Account(slug="shop-b", avito_user_id=B_USER, client_id=B_ID, **fields)
    account.set_client_secret(B_SECRET)
    account.save()
    return account


def test_the_default_accounts_client_is_get_clients(avito_accounts):
    default = default_account_sync()
    assert client_of(default) is get_client()
    assert credentials_of(default).client_secret == "test-secret"  # the environment's, not a stored one
    assert default.client_secret == ""


def test_each_account_calls_avito_with_its_own_token_and_user_id(avito_accounts):
    b = account_b()
    avito_accounts.mock.get(f"{AVITO}/messenger/v2/accounts/{B_USER}/chats", json={"chats": []})
    avito_accounts.mock.get(f"{AVITO}/messenger/v2/accounts/{USER_ID}/chats", json={"chats": []})
    client_of(b).list_chats()
    get_client().list_chats()
    calls = {c.request.url.split("?")[0]: c.request.headers.get("Authorization") for c in avito_accounts.mock.calls
             if "/chats" in c.request.url}
    assert calls[f"{AVITO}/messenger/v2/accounts/{B_USER}/chats"].startswith(f"Bearer tok-{B_USER}-")
    assert calls[f"{AVITO}/messenger/v2/accounts/{USER_ID}/chats"].startswith(f"Bearer tok-{USER_ID}-")
    assert set(AvitoToken.objects.values_list("account_key", flat=True)) == {"default", str(b.pk)}


def test_a_client_is_cached_per_account_and_rebuilt_when_its_credentials_change(avito_accounts):
    b = account_b()
    assert client_of(b) is client_of(Account.objects.get(pk=b.pk))
    old = client_of(b)
    b.set_client_secret("new-secret")
    b.save()
    fresh = client_of(b)
    assert fresh is not old and fresh.client_secret == "new-secret"


def test_one_accounts_full_window_never_delays_another(settings):
    settings.RATE_LIMIT_REQUESTS = 2
    b = account_b(rate_limit_requests=1, rate_limit_window=60)
    b_limiter = client_of(b).transport.rate_limiter
    b_limiter.acquire(timeout=0.1)
    with pytest.raises(errors.AvitoRateLimited):
        b_limiter.acquire(timeout=0.1)
    default_limiter = get_client().transport.rate_limiter
    default_limiter.acquire(timeout=0.1)
    default_limiter.acquire(timeout=0.1)  # the default account's own window of 2 (RATE_LIMIT_REQUESTS)
    assert RateLimitCall.objects.filter(account_key=str(b.pk)).count() == 1
    assert RateLimitCall.objects.filter(account_key="default").count() == 2


@pytest.mark.redis
def test_with_redis_each_account_has_its_own_keys(avito_redis, redis_prefix, settings):
    settings.RATE_LIMIT_REQUESTS = 1
    b = account_b()
    client_of(b).transport.rate_limiter.acquire(timeout=0.1)
    get_client().transport.rate_limiter.acquire(timeout=0.1)  # not delayed by b's full window
    assert avito_redis.zcard(f"{redis_prefix}:ratelimit") == 1
    assert avito_redis.zcard(f"{redis_prefix}:account:{b.pk}:ratelimit") == 1
    assert redis_connection() is not None and not RateLimitCall.objects.exists()
