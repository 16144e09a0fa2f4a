"""`/health` (is the database reachable, is Redis, is the webhook path secret) and `/info` (never a secret).

Checks report a state (`ok`, `disabled`, `error: unreachable`, `error: failing`, `missing: ...`),
never an exception's text, which would name internal addresses; the details go to the log.
"""
from __future__ import annotations

from django.conf import settings
import logging

from django.db import InterfaceError, OperationalError, connection
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from avitogw.startup import WEBHOOK_SECRET_MISSING
from messenger.avito import redis_connection

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
    return "ok" if settings.AVITO_WEBHOOK_SECRET else WEBHOOK_SECRET_MISSING


HealthAnswer = inline_serializer("HealthAnswer", {
    "status": serializers.CharField(help_text="ok, degraded (Redis failing or no AVITO_WEBHOOK_SECRET) or error "
                                              "(database unreachable)"),
    "checks": inline_serializer("HealthChecks", {"database": serializers.CharField(),
                                                 "redis": serializers.CharField(),
                                                 "webhook_secret": serializers.CharField()}),
})


class HealthView(APIView):
    """200 while the database answers (`degraded` if Redis fails or the webhook has no secret), else 503."""

    @extend_schema(operation_id="health", tags=["system"], summary="Database and Redis checks", auth=[],
                   responses={200: HealthAnswer, 503: HealthAnswer})
    def get(self, request):
        checks = {"database": _database_check(), "redis": _redis_check(), "webhook_secret": _webhook_secret_check()}
        if checks["database"] != "ok":
            return Response({"status": "error", "checks": checks}, status=503)
        healthy = checks["redis"] in ("ok", "disabled") and checks["webhook_secret"] == "ok"
        status = "ok" if healthy else "degraded"
        return Response({"status": status, "checks": checks})


class InfoView(APIView):
    @extend_schema(operation_id="info", tags=["system"], summary="Configuration (no secrets)", auth=[],
                   responses={200: inline_serializer("InfoAnswer", {
                       "version": serializers.CharField(), "avito": serializers.DictField(),
                       "rate_limit": serializers.DictField(), "api": serializers.DictField(),
                       "redis_configured": serializers.BooleanField(), "n8n": serializers.DictField(),
                   })})
    def get(self, request):
        return Response({
            "version": settings.VERSION,
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
        })
