"""Warnings the web process logs once at start-up about a configuration that works but is unsafe.

Called from `avitogw/wsgi.py` (gunicorn imports it once, before forking its workers), so
an operator sees them in the web process's log; `/health` reports the same state.
"""
from __future__ import annotations

import logging

from django.conf import settings

logger = logging.getLogger("avitogw.startup")

WEBHOOK_SECRET_MISSING = "missing: AVITO_WEBHOOK_SECRET is not set, anyone who can reach /webhook/avito can post"


def warn_about_configuration() -> None:
    if not settings.AVITO_WEBHOOK_SECRET:
        logger.warning("AVITO_WEBHOOK_SECRET is not set: anyone who can reach the gateway can post notifications "
                       "to /webhook/avito. Set it, then subscribe again (POST /api/webhook/subscribe).")
