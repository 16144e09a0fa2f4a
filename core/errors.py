"""The gateway's own error types, raised by services and workers, mapped to HTTP only at the API edge.

A service says what went wrong (`code`, a readable `message`, `details`) and how serious it is
(`status`); it never builds a response and never raises a DRF exception. The one DRF exception
handler (`avitogw/exception_handler.py`) turns a `GatewayError` into the JSON envelope of contract §2
(`error_body`, here, with `json_error_404`, which apps answer unknown paths with too),
and a worker reads the same attributes to record an item's failure. Avito's own failures keep their
types in `messenger/avito/errors.py`.
"""
from __future__ import annotations

from django.http import JsonResponse


class GatewayError(Exception):
    """Base of every failure the gateway reports on purpose."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, details=None, code: str | None = None, status: int | None = None,
                 headers: dict | None = None):
        super().__init__(message)
        self.message = message
        self.details = details
        self.headers = headers or {}
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status


class InvalidInput(GatewayError):
    """The caller's input breaks a rule (Avito's limits, a bad URL, a malformed id)."""

    status = 400
    code = "validation_error"


class NotFound(GatewayError):
    status = 404
    code = "not_found"


class Conflict(GatewayError):
    status = 409
    code = "idempotency_conflict"


class DependencyUnavailable(GatewayError):
    """Our own Redis or database is down and the call cannot be bridged (not Avito's fault)."""

    status = 503
    code = "dependency_unavailable"


class OutcomeUnknown(GatewayError):
    """A send failed ambiguously and did not appear in the chat within the settle window.

    It was not sent again (docs/avito-client.md, "Never a duplicated send"). `check` says what to
    look for in the chat to settle it later: `{"chat_id", "kind", "text", "since"}` (plus
    whatever the send's answer carries, such as `image_id`).
    """

    status = 504
    code = "upstream_timeout"

    def __init__(self, message: str, *, check: dict | None = None, **kwargs):
        super().__init__(message, **kwargs)
        self.check = dict(check or {})


def details_text(details) -> str:
    """`image_url: The image is empty.; text: Too long.`: each field and why, as a validation error details
    them (a serializer's lists or a service's words); "" when there are none."""
    if not isinstance(details, dict) or not details:
        return ""
    return "; ".join(f"{name}: {' '.join(map(str, why if isinstance(why, list) else [why]))}"
                     for name, why in details.items())


def refusal_text(exc: Exception) -> str:
    """A refusal in a sentence, with the field-by-field details a validation error carries."""
    message = getattr(exc, "message", "") or str(exc)
    reasons = details_text(getattr(exc, "details", None))
    return f"{message} {reasons}" if reasons else message


def error_body(code: str, message: str, details=None) -> dict:
    return {"error": {"code": code, "message": message, "details": details}}


def json_error_404(request, exception=None):
    return JsonResponse(error_body("not_found", f"No such path: {request.path}"), status=404)
