"""`/health` (is the database reachable, is Redis, is the webhook path secret, is reconciliation
running) and `/info` (the configuration, never a secret).

Checks report a state (`ok`, `disabled`, `error: unreachable`, `error: failing`, `missing: ...`,
`stale: ...`), never an exception's text, which would name internal addresses; the details go to the log.
Those states and the configuration are for whoever may call the API (avitogw.api_guard.may_see_details):
anyone else sees the status, the check names with `ok`/`disabled`/`error`, and /info's booleans only,
enough for an uptime probe and nothing that maps the deployment (account id, URLs, what is missing).
"""
from __future__ import annotations

import logging
import time

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection
from django.utils import timezone
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from avitogw.api_guard import API_KEY, LOOPBACK_ONLY, api_access, may_see_details
from avitogw.startup import webhook_secret_state
from messenger.avito import avito_settings_missing, redis_connection
from reconcile.selectors import last_success_at, reconcile_lag

STARTED = time.time()  # a process that has seen no reconciliation for three intervals says so
STALE_INTERVALS = 3

logger = logging.getLogger(__name__)


def _database_check() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return "ok"
    except Exception as exc:  # any driver's failure means "not usable"
        logger.warning("Health check: the database failed: %s", exc)
        return "error: unreachable" if isinstance(exc, (OperationalError, InterfaceError)) else "error: failing"


def _redis_check() -> str:
    """The state only: an exception's text names the address (and sometimes more); it goes to the log."""
    if not settings.REDIS_URL:
        return "disabled"
    import redis

    try:
        redis_connection().ping()
        return "ok"
    except Exception as exc:
        logger.warning("Health check: Redis failed: %s", exc)
        unreachable = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
        return "error: unreachable" if isinstance(exc, unreachable) else "error: failing"


def _webhook_secret_check() -> str:
    return webhook_secret_state()


def _reconcile_check() -> tuple[str, dict]:
    """"ok", "disabled", "stale" when no run succeeded for three RECONCILE_INTERVALs (beat or the
    worker is not running, or Avito keeps failing), or "behind" when the oldest window still to
    read started more than three intervals ago (runs go on, but a backlog is being read); and the
    last success's time and age, and that lag."""
    interval = settings.RECONCILE_INTERVAL
    last = last_success_at()
    now = timezone.now()
    age = (now - last).total_seconds() if last else None
    lag = reconcile_lag(now=now)
    details = {"interval": interval, "last_success_at": last.isoformat() if last else None,
               "last_success_age": round(age, 1) if age is not None else None,
               "lag_seconds": round(lag, 1) if lag is not None else None}
    if not interval:
        return "disabled", details
    missing = avito_settings_missing()
    if missing:  # runs wait for the account: nothing can be reconciled, and nothing is tried
        return f"waiting: {', '.join(missing)} not set", details
    limit = STALE_INTERVALS * interval
    if (age if age is not None else time.time() - STARTED) > limit:
        return f"stale: no successful run in {limit} s", details
    if lag is not None and lag > limit:
        return f"behind: {round(lag)} s", details
    return "ok", details


TERSE_STATES = ("ok", "disabled")


def _terse(checks: dict) -> dict:
    """A check's state as a stranger sees it: ok, disabled, or error, without saying what is wrong."""
    return {name: state if state in TERSE_STATES else "error" for name, state in checks.items()}


HealthAnswer = inline_serializer("HealthAnswer", {
    "status": serializers.CharField(help_text="ok; degraded (Redis failing, no AVITO_WEBHOOK_SECRET, the Avito account "
                                              "not set up, or no successful "
                                              "reconciliation for three intervals); error (database unreachable)"),
    "checks": inline_serializer("HealthChecks", help_text="each check's state in full (`error: unreachable`, `missing: "
                                                          "...`) for an API key holder (no API_KEY: a caller on "
                                                          "the gateway's machine); anyone else sees ok, disabled "
                                                          "or error", fields={"database": serializers.CharField(),
                                                 "redis": serializers.CharField(),
                                                 "webhook_secret": serializers.CharField(),
                                                 "reconcile": serializers.CharField(required=False)}),
    "reconcile": inline_serializer("HealthReconcile", help_text="only for an API key holder (see above)", fields={
        "interval": serializers.IntegerField(help_text="RECONCILE_INTERVAL, 0 = off"),
        "last_success_at": serializers.DateTimeField(allow_null=True),
        "last_success_age": serializers.FloatField(allow_null=True, help_text="seconds"),
    }, required=False),
})


class HealthView(APIView):
    """200 while the database answers (`degraded` if Redis fails, the webhook has no secret or
    reconciliation is stale), else 503. The checks' states in full only to a caller who may see details."""

    @extend_schema(operation_id="health", tags=["system"], summary="Database and Redis checks", auth=[],
                   responses={200: HealthAnswer, 503: HealthAnswer})
    def get(self, request):
        detailed = may_see_details(request)
        checks = {"database": _database_check(), "redis": _redis_check(), "webhook_secret": _webhook_secret_check()}
        if checks["database"] != "ok":
            return Response({"status": "error", "checks": checks if detailed else _terse(checks)}, status=503)
        checks["reconcile"], reconcile = _reconcile_check()
        healthy = (checks["redis"] in ("ok", "disabled") and checks["webhook_secret"] == "ok"
                   and checks["reconcile"] in ("ok", "disabled"))
        status = "ok" if healthy else "degraded"
        if not detailed:
            return Response({"status": status, "checks": _terse(checks)})
        return Response({"status": status, "checks": checks, "reconcile": reconcile})


class InfoView(APIView):
    """The configuration for a caller who may see details; anyone else gets the version and booleans only."""

    @extend_schema(operation_id="info", tags=["system"], summary="Configuration (no secrets)", auth=[],
                   description="A caller without the API key (when API_KEY is set), or not on the gateway's "
                               "machine (when it is not), gets `version`, `api_access` and the booleans only.",
                   responses={200: inline_serializer("InfoAnswer", {
                       "version": serializers.CharField(),
                       "api_access": serializers.ChoiceField(
                           choices=[API_KEY, LOOPBACK_ONLY],
                           help_text="who may call /api/* and /metrics: holders of API_KEY, or (no API_KEY "
                                     "set) only callers on the gateway's own machine"),
                       "avito": serializers.DictField(),
                       "rate_limit": serializers.DictField(required=False),
                       "api": serializers.DictField(),
                       "redis_configured": serializers.BooleanField(), "n8n": serializers.DictField(),
                       "reconcile_interval": serializers.IntegerField(required=False),
                   })})
    def get(self, request):
        info = _configuration()
        return Response(info if may_see_details(request) else _booleans_only(info))


def _configuration() -> dict:
    return {
        "version": settings.VERSION,
        "api_access": api_access(),
        "avito": {
            "user_id": settings.AVITO_USER_ID or None,
            "api_base_url": settings.AVITO_API_BASE_URL,
            "credentials_configured": bool(settings.AVITO_CLIENT_ID and settings.AVITO_CLIENT_SECRET),
            "max_connections": settings.MAX_CONNECTIONS,
            "max_retries": settings.MAX_RETRIES,
            "retry_backoff_base": settings.RETRY_BACKOFF_BASE,
            "connection_timeout": settings.CONNECTION_TIMEOUT,
            "webhook_secret_configured": bool(settings.AVITO_WEBHOOK_SECRET),
            "public_base_url": settings.PUBLIC_BASE_URL or None,
        },
        "rate_limit": {"requests": settings.RATE_LIMIT_REQUESTS, "window_seconds": settings.RATE_LIMIT_WINDOW},
        "api": {"api_key_configured": bool(settings.API_KEY), "rate_limit": settings.API_RATE_LIMIT,
                "image_url_allow_private": settings.IMAGE_URL_ALLOW_PRIVATE},
        "redis_configured": bool(settings.REDIS_URL),
        "n8n": {"delivery_configured": bool(settings.N8N_WEBHOOK_URL),
                "signing_configured": bool(settings.N8N_WEBHOOK_SECRET),
                "forward_own_messages": settings.FORWARD_OWN_MESSAGES,
                "max_attempts": settings.N8N_FORWARD_MAX_ATTEMPTS},
        "reconcile_interval": settings.RECONCILE_INTERVAL,
    }


def _booleans_only(info: dict) -> dict:
    """The version, the access rule and every yes/no; no account id, URL, limit or count."""
    kept = {"version": info["version"], "api_access": info["api_access"]}
    for name, value in info.items():
        if isinstance(value, bool):
            kept[name] = value
        elif isinstance(value, dict) and (flags := {key: flag for key, flag in value.items()
                                                    if isinstance(flag, bool)}):
            kept[name] = flags
    return kept
