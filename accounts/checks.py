"""Start-up check: a gateway holding encrypted secrets and no ENCRYPTION_KEYS refuses to start.

The check reads the database, so it is a `database` check: `migrate` and `check --database
default` run it (a plain `manage.py check` needs no database). The web process asks the same
question at start-up (avitogw/startup.py, from wsgi.py), so gunicorn stops with a message naming
the variable instead of failing on the first call of an account; a worker fails on first use,
with the same words (accounts.encryption).
"""
from __future__ import annotations

from django.core import checks
from django.db import DatabaseError

from accounts.encryption import KEYS_SETTING, keys_configured


def encryption_keys_problem() -> str | None:
    """Why the gateway cannot run as configured, or None."""
    if keys_configured():
        return None
    from accounts.models import Account

    try:
        sealed = Account.objects.exclude(client_secret="").count()
    except DatabaseError:  # no table yet (before migrate) or no database: nothing sealed to open
        return None
    if not sealed:
        return None
    return (f"{sealed} account(s) hold an encrypted client secret and {KEYS_SETTING} is not set: set "
            f"{KEYS_SETTING} to the key(s) they were encrypted with (in .env) and start again.")


@checks.register(checks.Tags.database)
def check_encryption_keys(app_configs=None, databases=None, **kwargs):
    if not databases:  # Django's rule for database checks: only when the command names the databases
        return []
    problem = encryption_keys_problem()
    return [checks.Error(problem, id="accounts.E001")] if problem else []
