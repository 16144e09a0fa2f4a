"""Writes of accounts: create (credentials checked with Avito first), update, check, pause, resume, delete.

Avito refusing credentials is the caller's input here (400 `credentials_refused` with Avito's
words, nothing saved), unlike a send, where it is the gateway's configuration (502).
Pause and resume change the state only, for now: sends and deliveries that honour it come
with the per-account work (docs/accounts.md, "Not yet").
"""
from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import encryption
from accounts.avito_clients import client_of
from accounts.models import DEFAULT_SLUG, Account, AccountState
from core.errors import Conflict, GatewayError, InvalidInput
from messenger.avito import probe_client
from messenger.avito.client import AvitoClient
from messenger.avito.errors import AvitoAuthError, AvitoError

CREDENTIALS_REFUSED = "credentials_refused"
WEBHOOK_PATH = "/webhook/avito/"
# Fields the environment owns for `default` (AVITO_*, RATE_LIMIT_*): a PATCH of them is refused.
ENVIRONMENT_FIELDS = ("client_id", "client_secret", "avito_user_id", "rate_limit_requests", "rate_limit_window")


class CredentialsRefused(GatewayError):
    status = 400
    code = CREDENTIALS_REFUSED


def _conflict(message: str, field: str) -> Conflict:
    return Conflict(message, code="conflict", details={field: [message]})


def _whoami(client: AvitoClient) -> dict:
    """Token, then /core/v1/accounts/self: who these credentials are. Refused credentials raise CredentialsRefused."""
    try:
        return client.account_self()  # the token is fetched first, on the way
    except AvitoAuthError as exc:
        raise CredentialsRefused(exc.message, details={"client_secret": [exc.message]}) from exc


def _unique_or_conflict(*, slug: str | None = None, avito_user_id: int | None = None, exclude: int | None = None):
    others = Account.objects.exclude(pk=exclude) if exclude else Account.objects.all()
    if slug is not None and others.filter(slug=slug).exists():
        raise _conflict(f"An account with the slug {slug!r} exists.", "slug")
    if avito_user_id is not None and others.filter(avito_user_id=avito_user_id).exists():
        raise _conflict(f"An account for the Avito user {avito_user_id} exists.", "avito_user_id")


def account_create(*, slug: str, client_id: str, client_secret: str, name: str = "", avito_user_id: int | None = None,
                   n8n_webhook_url: str = "", metadata: dict | None = None, rate_limit_requests: int | None = None,
                   rate_limit_window: float | None = None) -> Account:
    if slug == DEFAULT_SLUG:
        raise InvalidInput("Invalid input: slug.", details={"slug": [
            "`default` is the environment's account (AVITO_CLIENT_ID, AVITO_CLIENT_SECRET, AVITO_USER_ID)."]})
    _unique_or_conflict(slug=slug)
    encryption.require_keys()  # no key: say so before asking Avito anything
    me = _whoami(probe_client(client_id=client_id, client_secret=client_secret))
    if avito_user_id is None:
        avito_user_id = _user_id(me)
    _unique_or_conflict(avito_user_id=avito_user_id)
    account = Account(slug=slug, name=name or str(me.get("name") or slug), avito_user_id=avito_user_id,
                      client_id=client_id, n8n_webhook_url=n8n_webhook_url, metadata=metadata or {},
                      rate_limit_requests=rate_limit_requests, rate_limit_window=rate_limit_window,
                      last_ok_at=timezone.now())
    account.set_client_secret(client_secret)
    try:
        with transaction.atomic():
            account.save()
    except IntegrityError as exc:  # created by a concurrent request between the check and here
        raise _conflict(f"An account with the slug {slug!r} or the Avito user {avito_user_id} exists.", "slug") from exc
    return account


def _user_id(me: dict) -> int:
    try:
        return int(me["id"])
    except (KeyError, TypeError, ValueError) as exc:
        raise CredentialsRefused("Avito's /core/v1/accounts/self named no account id.") from exc


def account_update(*, account: Account, changes: dict) -> Account:
    """PATCH: any writable field; the secret is re-encrypted; `default`'s environment-owned fields are refused."""
    if account.from_environment:
        owned = sorted(set(changes) & set(ENVIRONMENT_FIELDS))
        if owned:
            raise InvalidInput(f"Invalid input: {', '.join(owned)}.", details={
                name: ["The account `default` takes this from the environment (AVITO_*, RATE_LIMIT_*)."]
                for name in owned})
    if "avito_user_id" in changes:
        _unique_or_conflict(avito_user_id=changes["avito_user_id"], exclude=account.pk)
    secret = changes.pop("client_secret", None)
    for name, value in changes.items():
        setattr(account, name, value)
    if secret:
        account.set_client_secret(secret)
    account.save()
    return account


def account_check(*, account: Account) -> Account:
    """Token + /core/v1/accounts/self with the account's credentials; the state follows the answer.

    Refused credentials make it `failing` (reason `credentials_refused`); accepted ones make a
    failing account `active` again and stamp `last_ok_at`. A paused or disabled account keeps
    its state. Any other fault of Avito's (down, 429) changes nothing and is raised.
    """
    client = client_of(account)
    try:
        client.transport.token_store.refresh()
        client.account_self()
    except AvitoAuthError as exc:
        return _set_state(account, AccountState.FAILING, f"{CREDENTIALS_REFUSED}: {exc.message}",
                          only_from=(AccountState.ACTIVE, AccountState.FAILING))
    account.last_ok_at = timezone.now()
    account.save(update_fields=["last_ok_at", "updated_at"])
    return _set_state(account, AccountState.ACTIVE, "", only_from=(AccountState.FAILING,))


def _set_state(account: Account, state: str, reason: str, *, only_from) -> Account:
    if account.state in only_from:
        account.state, account.state_reason = state, reason
        account.save(update_fields=["state", "state_reason", "updated_at"])
    return account


def account_pause(*, account: Account) -> Account:
    _refuse_disabled(account)
    return _set_state(account, AccountState.PAUSED, "paused", only_from=(AccountState.ACTIVE, AccountState.FAILING))


def account_resume(*, account: Account) -> Account:
    _refuse_disabled(account)
    return _set_state(account, AccountState.ACTIVE, "", only_from=(AccountState.PAUSED,))


def _refuse_disabled(account: Account) -> None:
    if account.state == AccountState.DISABLED:
        raise Conflict(f"The account {account.slug!r} is disabled.", code="account_disabled")


def account_delete(*, account: Account) -> Account:
    """Unsubscribe its webhook at Avito (best effort, the outcome recorded in `state_reason`) and disable it.

    The row stays (its history stays). `default` cannot be deleted while the environment defines
    it: remove AVITO_* from the environment instead (the account is then disabled by itself).
    """
    if account.from_environment and account.state != AccountState.DISABLED:
        raise Conflict("The account `default` comes from AVITO_CLIENT_ID, AVITO_CLIENT_SECRET and AVITO_USER_ID: "
                       "remove them from the environment to retire it.", code="account_from_environment")
    outcome = _unsubscribe(account)
    account.state, account.state_reason = AccountState.DISABLED, f"deleted; {outcome}"
    account.save(update_fields=["state", "state_reason", "updated_at"])
    return account


def _unsubscribe(account: Account) -> str:
    if not settings.PUBLIC_BASE_URL:
        return "webhook not unsubscribed: PUBLIC_BASE_URL is not set"
    url = f"{settings.PUBLIC_BASE_URL.rstrip('/')}{WEBHOOK_PATH}{account.webhook_secret}"
    try:
        client_of(account).unsubscribe(url)
    except (AvitoError, GatewayError) as exc:
        return f"webhook not unsubscribed: {getattr(exc, 'message', exc)}"
    return "webhook unsubscribed"
