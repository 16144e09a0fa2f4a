"""The bulk job's callback: one signed POST of the summary to the job's callback_url.

A callback_url is almost always an n8n webhook, so the POST goes through the project's n8n
client (a timeout, no redirects) and is signed exactly like message deliveries (Standard
Webhooks, N8N_WEBHOOK_SECRET), so one n8n check verifies both. The URL came from the API's
caller, so it passes the same guard as image_url (core.url_guard) once more here, at
send time (DNS may have changed since the job was accepted), and the connection checks the
peer it reached. It is tried once; the outcome kept on the job is the status code and a
short reason, never the answer's body (which could be a page of an internal service).
"""
from __future__ import annotations

from http import HTTPStatus

from core.n8n.client import N8nRejected, N8nUnreachable, guarded_n8n_client
from core.n8n.signing import SigningSecretInvalid, signed_headers
from core.url_guard import UrlPolicy, UrlRefused, UrlUnresolvable, check_url, guarded_pools


def _reason(status: int | None) -> str:
    try:
        return f"HTTP {status} {HTTPStatus(status).phrase}"
    except (ValueError, TypeError):
        return f"HTTP {status}"


def post_summary(*, url: str, body: bytes, msg_id: str, secret: str, policy: UrlPolicy) -> str:
    """POST `body` (JSON bytes) to `url` once: "delivered (HTTP 200)", "failed: <why>" or "refused: <why>"."""
    try:
        check_url(url, policy, what="callback")
    except (UrlRefused, UrlUnresolvable) as exc:
        return f"refused: {exc}"
    try:
        headers = signed_headers(msg_id=msg_id, payload=body, secret=secret or None)
    except SigningSecretInvalid as exc:
        return f"failed: N8N_WEBHOOK_SECRET cannot sign: {exc}"
    try:
        status = guarded_n8n_client(guarded_pools(policy)).post(url, body=body, headers=headers)
    except UrlRefused as exc:
        return f"refused: {exc}"
    except N8nRejected as exc:
        return f"failed: {_reason(exc.status_code)}"
    except N8nUnreachable as exc:
        return f"failed: no answer ({type(exc.__cause__).__name__})"
    return f"delivered (HTTP {status})"
