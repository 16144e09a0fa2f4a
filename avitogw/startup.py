"""What the web process says once at start-up: warnings about a configuration that works but is unsafe or
limited, and the refusal to start with encrypted account secrets and no ENCRYPTION_KEYS.

Called from `avitogw/wsgi.py` (gunicorn imports it once, before forking its workers; the
development server imports it too), so an operator sees them in the web process's log;
`/health` reports the webhook's state in the same words (webhook_secret_state).
"""
from __future__ import annotations

import logging

from django.conf import settings

logger = logging.getLogger("avitogw.startup")

WEBHOOK_SECRET_MISSING = "missing: AVITO_WEBHOOK_SECRET is not set"
WEBHOOK_REFUSED = "missing: AVITO_WEBHOOK_SECRET is not set, notifications are refused"


def webhook_secret_state() -> str:
    """`/health`'s webhook_secret check: ok, or what is missing (and, in production, that nothing is taken)."""
    if settings.AVITO_WEBHOOK_SECRET:
        return "ok"
    return WEBHOOK_REFUSED if settings.WEBHOOK_SECRET_REQUIRED else WEBHOOK_SECRET_MISSING


def refuse_unreadable_secrets() -> None:
    """Stop the web process when accounts hold encrypted secrets and ENCRYPTION_KEYS is not set."""
    from django.core.exceptions import ImproperlyConfigured
    from django.db import connections

    from accounts.checks import encryption_keys_problem

    try:
        problem = encryption_keys_problem()
    finally:
        connections.close_all()  # gunicorn forks its workers after this: no connection may cross the fork
    if problem:
        logger.error(problem)
        raise ImproperlyConfigured(problem)


def warn_about_configuration() -> None:
    if not settings.AVITO_WEBHOOK_SECRET and settings.WEBHOOK_SECRET_REQUIRED:
        logger.error("AVITO_WEBHOOK_SECRET is not set: under production settings /webhook/avito refuses every "
                     "notification from Avito (404). Set it in .env (./run.sh writes one into a new .env), restart, "
                     "then subscribe again (POST /api/webhook/subscribe).")
    elif not settings.AVITO_WEBHOOK_SECRET:
        logger.warning("AVITO_WEBHOOK_SECRET is not set: anyone who can reach the gateway can post notifications "
                       "to /webhook/avito. Set it, then subscribe again (POST /api/webhook/subscribe).")
    if settings.SECRET_KEY == settings.GENERATED_SECRET_KEY:
        logger.warning("SECRET_KEY is not set: this process made up a key of its own. Admin logins end at every "
                       "restart; set SECRET_KEY in .env to keep them.")
