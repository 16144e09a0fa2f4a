"""Reads of accounts: the list and one account by slug (the environment's `default` brought up to date first)."""
from __future__ import annotations

from core.errors import NotFound
from accounts.environment import default_account_sync
from accounts.models import Account


def account_list() -> list[Account]:
    default_account_sync()
    return list(Account.objects.order_by("slug"))


def account_get(*, slug: str) -> Account:
    default_account_sync()
    account = Account.objects.filter(slug=slug).first()
    if account is None:
        raise NotFound(f"No account {slug!r}.")
    return account
