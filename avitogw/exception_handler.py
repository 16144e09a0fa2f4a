"""One JSON error envelope for every error of the API (contract §2).

`{"error": {"code": "<snake_case>", "message": "<sentence>", "details": <object|null>}}`:
the gateway's own errors (`core.errors.GatewayError`, raised by services and workers),
Avito's errors, DRF's exceptions and django-ratelimit's refusal all pass through
`api_exception_handler`, the only place they become HTTP. An exception it does not know is
a bug: it is left to Django's 500 path, so `got_request_exception` (an error tracker) and
the `django.request` log see it, and `handler500` (`json_error_500`) still answers with the
envelope. Our own database being unreachable is not a bug but a 503 `dependency_unavailable`
(core.database_outage): here for DRF's views, in `DatabaseOutageMiddleware` for the others,
and in `json_error_500` for a middleware that met it. The `json_error_*` views also cover unknown
paths, so no client ever sees an HTML page or a stack trace (with DEBUG off). The envelope itself
(`error_body`) and `json_error_404` are the kernel's (core/errors.py), since apps answer with them too.
"""
from __future__ import annotations

import math
import sys

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import Http404, JsonResponse
from django_ratelimit.exceptions import Ratelimited
from rest_framework import exceptions, status
from rest_framework.response import Response

from core.database_outage import database_unavailable
from core.errors import GatewayError, error_body
from messenger.avito import errors as avito

AVITO_ERRORS = [  # most specific first
    (avito.AvitoNotFound, status.HTTP_404_NOT_FOUND, "not_found"),
    (avito.AvitoRejected, status.HTTP_400_BAD_REQUEST, "upstream_rejected"),
    (avito.AvitoRateLimited, status.HTTP_429_TOO_MANY_REQUESTS, "rate_limited"),
    (avito.AvitoTimeout, status.HTTP_504_GATEWAY_TIMEOUT, "upstream_timeout"),
    (avito.AvitoAuthError, status.HTTP_502_BAD_GATEWAY, "upstream_auth_error"),
    (avito.AvitoError, status.HTTP_502_BAD_GATEWAY, "upstream_error"),
]

DRF_CODES = {
    exceptions.ParseError: "parse_error",
    exceptions.NotAuthenticated: "unauthorized",
    exceptions.AuthenticationFailed: "unauthorized",
    exceptions.PermissionDenied: "forbidden",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "rate_limited",
}


def error_response(status_code: int, code: str, message: str, details=None, headers=None) -> Response:
    return Response(error_body(code, message, details), status=status_code, headers=headers)


def _retry_after(seconds: float | None) -> dict:
    return {"Retry-After": str(max(1, math.ceil(seconds)))} if seconds else {}


def _validation_message(details) -> str:
    if isinstance(details, dict) and details:
        return "Invalid input: " + ", ".join(str(name) for name in details) + "."
    return "Invalid input."


def api_exception_handler(exc, context):
    exc = database_unavailable(exc) or exc
    if isinstance(exc, GatewayError):
        return error_response(exc.status, exc.code, exc.message, exc.details, exc.headers)
    if isinstance(exc, avito.AvitoError):
        for kind, status_code, code in AVITO_ERRORS:
            if isinstance(exc, kind):
                headers = _retry_after(getattr(exc, "retry_after", None)) if code == "rate_limited" else None
                return error_response(status_code, code, exc.message, exc.details, headers)
    if isinstance(exc, Ratelimited):
        return error_response(429, "rate_limited", "Too many requests to the gateway's API; slow down.",
                              None, {"Retry-After": "60"})
    if isinstance(exc, Http404):
        return error_response(404, "not_found", str(exc) or "Not found.")
    if isinstance(exc, RequestDataTooBig):
        return error_response(413, "payload_too_large", "The request body is too large.")
    if isinstance(exc, SuspiciousOperation):  # e.g. a form with more fields than Django accepts
        return error_response(400, "bad_request", str(exc) or "Bad request.")
    if isinstance(exc, exceptions.ValidationError):
        details = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        return error_response(400, "validation_error", _validation_message(details), details)
    if isinstance(exc, exceptions.APIException):
        code = next((c for kind, c in DRF_CODES.items() if isinstance(exc, kind)), "error")
        headers = _retry_after(exc.wait) if isinstance(exc, exceptions.Throttled) else None
        return error_response(exc.status_code, code, str(exc.detail), None, headers)
    return None  # a bug: DRF re-raises it into Django's 500 path (signal, log, then json_error_500)


def _json_error(error: GatewayError) -> JsonResponse:
    response = JsonResponse(error_body(error.code, error.message, error.details), status=error.status)
    for name, value in error.headers.items():
        response[name] = value
    return response


class DatabaseOutageMiddleware:
    """Views outside DRF (the admin, the staff inbox, the docs): a database outage is the same 503
    envelope as on the API, not Django's 500."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        error = database_unavailable(exception)
        return _json_error(error) if error is not None else None


def json_error_500(request):
    error = database_unavailable(sys.exc_info()[1] or Exception())  # Django calls this inside its `except`
    if error is not None:
        return _json_error(error)
    return JsonResponse(error_body("internal_error", "The gateway failed to handle this request."), status=500)


def json_error_400(request, exception=None):
    return JsonResponse(error_body("bad_request", "Bad request."), status=400)


def json_error_403(request, exception=None):
    if isinstance(exception, Ratelimited):
        response = JsonResponse(error_body("rate_limited", "Too many requests; slow down."), status=429)
        response["Retry-After"] = "60"
        return response
    return JsonResponse(error_body("forbidden", "Forbidden."), status=403)
