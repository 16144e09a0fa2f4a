"""The error envelope as the OpenAPI document shows it, and what each error status means.

One table (`ERROR_MEANINGS`) says what every error status of the API means, in one wording:
an operation's own errors (`errors(400, 404)` in a view's `extend_schema`) and the answers of
the layers in front of every view (`FRONT_ANSWERS`: the API guard's 401/403/429, added to
each guarded operation by avitogw/openapi.py) are read from it.
"""
from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class ErrorBody(serializers.Serializer):
    code = serializers.CharField(help_text="snake_case, e.g. validation_error, not_found, upstream_error")
    message = serializers.CharField(help_text="a readable sentence; Avito's own words for Avito's errors")
    details = serializers.JSONField(allow_null=True, help_text="for validation errors: each bad field and why")


class ErrorEnvelope(serializers.Serializer):
    error = ErrorBody()


ERROR_MEANINGS = {
    400: "validation_error (details name each field), parse_error, upstream_rejected (Avito's message), "
         "credentials_refused (Avito refused an account's credentials; its message)",
    401: "unauthorized: API_KEY is set and the call did not send it (X-API-Key or Authorization: Bearer)",
    403: "forbidden: no API_KEY is set and the caller is not on the gateway's own machine (loopback), or a web "
         "page sent the request (a cross-site Origin or Sec-Fetch-Site)",
    404: "not_found",
    409: "idempotency_conflict: same key with another body, or still in progress; conflict: an account with that "
         "slug or Avito user id exists; account_disabled, account_from_environment: not with this account's state",
    413: "payload_too_large: the body is over 26 MB",
    415: "unsupported_media_type: send JSON (or multipart/form-data where documented)",
    429: "rate_limited: more calls than API_RATE_LIMIT, or Avito's own limit (Retry-After)",
    502: "upstream_error: Avito failed after retries",
    503: "encryption_key_missing: ENCRYPTION_KEYS cannot open an account's secret; dependency_unavailable: the gateway's own database (or the store of the Avito token and call "
         "limit) is unavailable. For a send: nothing was sent; retry (with the same Idempotency-Key)",
    504: "upstream_timeout: Avito did not answer in time. For a send, details.outcome is \"unknown\": "
         "it may have been delivered, was not sent again, and did not appear in the chat in time; check "
         "the chat (or retry with the same Idempotency-Key) before sending it again",
}
# What the API guard (avitogw/api_guard.py) may answer on any guarded path, before a view runs.
FRONT_ANSWERS = (401, 403, 429)


def errors(*statuses: int) -> dict:
    """The error responses of an operation, each in the one envelope."""
    return {status: OpenApiResponse(ErrorEnvelope, description=ERROR_MEANINGS[status]) for status in statuses}
