"""The gate in front of every `/api/*` path: the API key, then a per-caller rate limit.

A middleware rather than a DRF permission, so the bulk and deliveries APIs written
elsewhere are covered without each view remembering to opt in. With `API_KEY` set, the
`X-API-Key` header must match it (compared in constant time). django-ratelimit then counts
calls per API key (per client address when there is no key) against `API_RATE_LIMIT`, so a
runaway n8n loop gets 429 instead of starving every other workflow. Everything outside
`/api/` (health, info, docs, the incoming webhook) is open.

Counting lives in the Django cache: Redis when REDIS_URL is set (shared by every process).
Without Redis the cache is each process's memory, so every web process counts on its own
and the effective limit is API_RATE_LIMIT times the number of web processes.
"""
from __future__ import annotations

import hashlib
import hmac
import logging

from django.conf import settings
from django.http import JsonResponse
from django_ratelimit.core import get_usage

from avitogw.exception_handler import error_body

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"


def _caller(request, key_ok: bool) -> str:
    presented = request.headers.get("X-API-Key", "")
    if key_ok and presented:
        return "key:" + hashlib.sha256(presented.encode()).hexdigest()[:32]
    return "ip:" + (request.META.get("REMOTE_ADDR") or "unknown")


def _key_ok(request) -> bool:
    expected = settings.API_KEY
    if not expected:
        return True
    presented = request.headers.get("X-API-Key", "")
    return hmac.compare_digest(presented.encode(), expected.encode())


def _rate_limited(request, caller: str) -> int | None:
    """Seconds until the caller's window ends when over the limit, else None."""
    try:
        usage = get_usage(request, group="avitogw-api", key=lambda group, req: caller,
                          rate=settings.API_RATE_LIMIT, increment=True)
    except Exception:  # a cache outage must not take the API down with it
        logger.warning("API rate limit could not be counted; letting the call through", exc_info=True)
        return None
    if not usage or not usage["should_limit"]:
        return None
    return max(1, int(usage["time_left"]))


class ApiGuardMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith(API_PREFIX):
            return self.get_response(request)
        key_ok = _key_ok(request)
        wait = _rate_limited(request, _caller(request, key_ok))
        if wait is not None:
            response = JsonResponse(error_body(
                "rate_limited", f"More than {settings.API_RATE_LIMIT} calls to the gateway's API; "
                                f"retry in {wait} s."), status=429)
            response["Retry-After"] = str(wait)
            return response
        if not key_ok:
            return JsonResponse(error_body("unauthorized", "Missing or wrong X-API-Key header."), status=401,
                                headers={"WWW-Authenticate": "X-API-Key"})
        if _declared_length(request) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            # DRF reads a JSON body whole, whatever its size: refuse before it is read.
            return JsonResponse(error_body(
                "payload_too_large", f"The body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes."),
                status=413)
        return _json_errors_only(request, self.get_response(request))


def _declared_length(request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


HTML_ERROR_CODES = {404: "not_found", 405: "method_not_allowed", 500: "internal_error"}


def _json_errors_only(request, response):
    """With DEBUG on, Django answers unknown paths with its HTML page; API clients get the envelope."""
    if response.status_code < 400 or not response.get("Content-Type", "").startswith("text/html"):
        return response
    code = HTML_ERROR_CODES.get(response.status_code, "error")
    message = f"No such path: {request.path}" if code == "not_found" else f"HTTP {response.status_code}."
    return JsonResponse(error_body(code, message), status=response.status_code)
