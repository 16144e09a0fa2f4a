"""Avito's error bodies, and the exception handlers raise to answer with one.

Avito's OpenAPI defines one shape for every error, ``{"error": {"code", "message"}}``,
plus ``fields`` for validation errors; the token endpoint alone speaks OAuth
(``{"error": "invalid_client", "error_description": ...}``).
"""

from __future__ import annotations

# Avito's own wording from the error schemas in messenger.openapi.json.
STANDARD_MESSAGES = {
    400: "Bad Request",
    401: "Unauthorized",
    402: "Payment required",
    403: "Forbidden",
    404: "Not found",
    405: "Method Not Allowed",
    413: "Request Entity Too Large",
    429: "Too Many Requests",
    500: "Error while processing request. Please, contact support",
    502: "Bad Gateway",
    503: "Service temporarily unavailable. Please, contact support",
    504: "Gateway Timeout",
}


def error_body(status: int, message: str | None = None, fields: dict | None = None) -> dict:
    """Avito's error envelope; ``fields`` only for validation errors."""
    error: dict = {"code": status, "message": message or STANDARD_MESSAGES.get(status, "Error")}
    if fields is not None:
        error["fields"] = fields
    return {"error": error}


class ApiError(Exception):
    """Stop handling a request and answer with an Avito-shaped error."""

    def __init__(self, status: int, message: str | None = None, *, fields: dict | None = None,
                 headers: list[tuple[str, str]] | None = None, body: dict | None = None):
        super().__init__(message or STANDARD_MESSAGES.get(status, "Error"))
        self.status = status
        self.headers = headers or []
        self.body = body if body is not None else error_body(status, message, fields)


def validation_error(fields: dict[str, str]) -> ApiError:
    """400 "Validation error" naming each bad parameter, as Avito's validatingError does."""
    return ApiError(400, "Validation error", fields=fields)


def oauth_error(error: str, description: str) -> ApiError:
    """The token endpoint's OAuth-style error (an assumption: Avito documents none)."""
    return ApiError(400, body={"error": error, "error_description": description})
