"""`/health` (is the database reachable, is Redis) and `/info` (the configuration, never a secret)."""
from __future__ import annotations

from django.conf import settings
from django.db import connection
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from avitogw.api_guard import API_KEY, LOOPBACK_ONLY, api_access
from messenger.avito import redis_connection


def _database_check() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return "ok"
    except Exception as exc:  # any driver's failure means "not usable"
        return f"error: {exc.__class__.__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"


def _redis_check() -> str:
    if not settings.REDIS_URL:
        return "disabled"
    try:
        redis_connection().ping()
        return "ok"
    except Exception as exc:
        return f"error: {exc.__class__.__name__}: {exc}"


HealthAnswer = inline_serializer("HealthAnswer", {
    "status": serializers.CharField(help_text="ok, degraded (Redis failing) or error (database unreachable)"),
    "checks": inline_serializer("HealthChecks", {"database": serializers.CharField(),
                                                 "redis": serializers.CharField()}),
})


class HealthView(APIView):
    """200 while the database answers (status `degraded` if only Redis fails), else 503."""

    @extend_schema(operation_id="health", tags=["system"], summary="Database and Redis checks", auth=[],
                   responses={200: HealthAnswer, 503: HealthAnswer})
    def get(self, request):
        checks = {"database": _database_check(), "redis": _redis_check()}
        if checks["database"] != "ok":
            return Response({"status": "error", "checks": checks}, status=503)
        status = "ok" if checks["redis"] in ("ok", "disabled") else "degraded"
        return Response({"status": status, "checks": checks})


class InfoView(APIView):
    @extend_schema(operation_id="info", tags=["system"], summary="Configuration (no secrets)", auth=[],
                   responses={200: inline_serializer("InfoAnswer", {
                       "version": serializers.CharField(),
                       "api_access": serializers.ChoiceField(
                           choices=[API_KEY, LOOPBACK_ONLY],
                           help_text="who may call /api/* and /metrics: holders of API_KEY, or (no API_KEY "
                                     "set) only callers on the gateway's own machine"),
                       "avito": serializers.DictField(),
                       "rate_limit": serializers.DictField(), "api": serializers.DictField(),
                       "redis_configured": serializers.BooleanField(), "n8n": serializers.DictField(),
                   })})
    def get(self, request):
        return Response({
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
        })
