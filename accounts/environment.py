"""The environment's account, `default`: AVITO_CLIENT_ID, AVITO_CLIENT_SECRET and AVITO_USER_ID.

With all three set, the account `default` exists and the environment wins for its
credentials, user id and call limit (RATE_LIMIT_*): `default_account_sync` writes them into
its row whenever the accounts are read (lazily, so an upgraded installation gains the row on
first use, and a changed .env shows after a restart). Its secret stays in the environment (the
row's `client_secret` is empty, so an existing install needs no ENCRYPTION_KEYS), and its webhook
path stays `/webhook/avito/<AVITO_WEBHOOK_SECRET>`. Without them (a fresh install) there is no
default account; a row left from before is marked `disabled`.
"""
from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, transaction

from accounts.models import DEFAULT_SLUG, Account, AccountState

CREDENTIALS_REMOVED = "environment_credentials_removed"


def environment_configured() -> bool:
    return bool(settings.AVITO_CLIENT_ID and settings.AVITO_CLIENT_SECRET and settings.AVITO_USER_ID)


def _environment_fields() -> dict:
    return {"client_id": settings.AVITO_CLIENT_ID, "avito_user_id": settings.AVITO_USER_ID,
            "client_secret": "", "webhook_secret": settings.AVITO_WEBHOOK_SECRET,
            "rate_limit_requests": None, "rate_limit_window": None}


def default_account_sync() -> Account | None:
    """The `default` account as the environment defines it now (created or updated), or None without it."""
    row = Account.objects.filter(slug=DEFAULT_SLUG).first()
    if not environment_configured():
        if row and row.state != AccountState.DISABLED:
            Account.objects.filter(pk=row.pk).update(state=AccountState.DISABLED, state_reason=CREDENTIALS_REMOVED)
            row.refresh_from_db()
        return None
    wanted = _environment_fields()
    if row is None:
        try:
            with transaction.atomic():
                return Account.objects.create(slug=DEFAULT_SLUG, name=DEFAULT_SLUG, **wanted)
        except IntegrityError:  # another process created it first
            row = Account.objects.get(slug=DEFAULT_SLUG)
    changed = {name: value for name, value in wanted.items() if getattr(row, name) != value}
    if row.state == AccountState.DISABLED and row.state_reason == CREDENTIALS_REMOVED:
        changed.update(state=AccountState.ACTIVE, state_reason="")
    if changed:
        Account.objects.filter(pk=row.pk).update(**changed)
        row.refresh_from_db()
    return row
