"""The gate in front of every `/api/*` path and `/metrics`: who may call, then a per-caller rate limit.

A middleware rather than a DRF permission, so the bulk and deliveries APIs written
elsewhere are covered without each view remembering to opt in. Who may call:

- With `API_KEY` set, the key must come as `X-API-Key` or `Authorization: Bearer <key>`
  (Prometheus' `bearer_token`), compared in constant time; otherwise 401.
- Without `API_KEY`, only callers on this machine: REMOTE_ADDR in 127.0.0.0/8 or ::1.
  `X-Forwarded-For` is not believed (anyone can send it), so behind a reverse proxy on the
  same host every caller would look local: set API_KEY there. Anyone else gets 403 saying so.
  A browser on this machine is local too, so a request a web page sent (a cross-site `Origin`,
  or `Sec-Fetch-Site: cross-site`/`same-site`) is refused as well: no page can drive the API.

The guard decides on `path_info`, the path Django routes on, never on `path`: `path` starts
with SCRIPT_NAME, which a WSGI server may take from a request header (gunicorn does from
trusted forwarders; gunicorn.conf.py turns that off), and `/x` + `/api/token` is not `/api/`.

django-ratelimit then counts calls per API key (per client address when there is no key)
against `API_RATE_LIMIT`, so a runaway n8n loop gets 429 instead of starving every other
workflow. Everything else (health, info, docs, the incoming webhook) is open.

Counting lives in the Django cache: Redis when REDIS_URL is set (shared by every process).
Without Redis the cache is each process's memory, so every web process counts on its own
and the effective limit is API_RATE_LIMIT times the number of web processes.
"""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import JsonResponse
from django_ratelimit.core import get_usage

from core.errors import error_body

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"
METRICS_PATH = "/metrics"
API_KEY = "api_key"
LOOPBACK_ONLY = "loopback_only"


def api_access() -> str:
    """The rule in force, as `/info` shows it: `api_key` or `loopback_only`."""
    return API_KEY if settings.API_KEY else LOOPBACK_ONLY


def is_guarded(path: str) -> bool:
    return path.startswith(API_PREFIX) or path == METRICS_PATH


def _presented_key(request) -> str:
    key = request.headers.get("X-API-Key", "")
    if key:
        return key
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _caller(request, key_ok: bool) -> str:
    presented = _presented_key(request)
    if key_ok and presented:
        return "key:" + hashlib.sha256(presented.encode()).hexdigest()[:32]
    return "ip:" + (request.META.get("REMOTE_ADDR") or "unknown")


def _key_ok(request) -> bool:
    expected = settings.API_KEY
    if not expected:
        return True
    return hmac.compare_digest(_presented_key(request).encode(), expected.encode())


def is_loopback(address: str | None) -> bool:
    """127.0.0.0/8, ::1, and 127.x written as an IPv4-mapped IPv6 address (a dual-stack socket)."""
    try:
        ip = ipaddress.ip_address((address or "").split("%")[0])
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)
    return (mapped or ip).is_loopback


def may_see_details(request) -> bool:
    """Whether the caller may read what /health and /info say beyond their status: a holder of
    API_KEY, or (no API_KEY set) a caller on this machine, the same who may call /api/*."""
    if settings.API_KEY:
        return bool(_presented_key(request)) and _key_ok(request)
    return is_loopback(request.META.get("REMOTE_ADDR"))


CROSS_SITE_FETCHES = ("cross-site", "same-site")


def sent_by_a_web_page(request) -> bool:
    """A browser says where a request comes from: `Sec-Fetch-Site` (a request another site's page made),
    and `Origin` on every POST and every script's request, which names the page's origin (`null` when
    sandboxed). Curl, n8n and the gateway's own Swagger UI send neither or the gateway's own host."""
    if request.headers.get("Sec-Fetch-Site", "").lower() in CROSS_SITE_FETCHES:
        return True
    origin = request.headers.get("Origin")
    if origin is None:
        return False
    page = urlsplit(origin).netloc.lower()  # "" for `null`
    try:
        return not page or page != request.get_host().lower()
    except DisallowedHost:
        return True


def _refusal(request):
    """The answer for a caller who may not call, or None when the caller may."""
    if not settings.API_KEY:
        if sent_by_a_web_page(request):
            return JsonResponse(error_body(
                "forbidden", "This gateway has no API_KEY set, so it refuses requests a web page sends "
                             "(a cross-site Origin or Sec-Fetch-Site): a page open in a browser on this "
                             "machine must not drive the API. Call it from a program, or set API_KEY."),
                status=403)
        if is_loopback(request.META.get("REMOTE_ADDR")):
            return None
        return JsonResponse(error_body(
            "forbidden", "This gateway has no API_KEY set, so it serves /api/* and /metrics only to callers "
                         "on its own machine. Set API_KEY (in .env) and send it as the X-API-Key header."),
            status=403)
    if _key_ok(request):
        return None
    return JsonResponse(error_body("unauthorized", "Missing or wrong API key: send the X-API-Key header "
                                                   "(or Authorization: Bearer <API_KEY>)."),
                        status=401, headers={"WWW-Authenticate": "X-API-Key"})


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
        if not is_guarded(request.path_info):
            return self.get_response(request)
        key_ok = _key_ok(request)
        wait = _rate_limited(request, _caller(request, key_ok))
        if wait is not None:
            response = JsonResponse(error_body(
                "rate_limited", f"More than {settings.API_RATE_LIMIT} calls to the gateway's API; "
                                f"retry in {wait} s."), status=429)
            response["Retry-After"] = str(wait)
            return response
        refusal = _refusal(request)
        if refusal is not None:
            return refusal
        return _json_errors_only(request, self.get_response(request))


HTML_ERROR_CODES = {404: "not_found", 405: "method_not_allowed", 500: "internal_error"}


def _json_errors_only(request, response):
    """With DEBUG on, Django answers unknown paths with its HTML page; API clients get the envelope."""
    if response.status_code < 400 or not response.get("Content-Type", "").startswith("text/html"):
        return response
    code = HTML_ERROR_CODES.get(response.status_code, "error")
    message = f"No such path: {request.path}" if code == "not_found" else f"HTTP {response.status_code}."
    return JsonResponse(error_body(code, message), status=response.status_code)
