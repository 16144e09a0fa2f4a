"""The bulk job's callback: one signed POST of the summary to the job's callback_url.

A callback_url is almost always an n8n webhook, so the POST goes through the project's n8n
client (one pooled Session, a timeout, no redirects) and is signed exactly like message
deliveries (Standard Webhooks, N8N_WEBHOOK_SECRET), so one n8n check verifies both. It is
tried once: the outcome is returned as a short sentence for BulkJob.callback_status.
"""
from __future__ import annotations

from webhooks.n8n_client import N8nError, get_n8n_client
from webhooks.signing import SigningSecretInvalid, signed_headers


def post_summary(*, url: str, body: bytes, msg_id: str, secret: str) -> str:
    """POST `body` (JSON bytes) to `url` once; "delivered (HTTP 200)" or "failed: <why>"."""
    try:
        headers = signed_headers(msg_id=msg_id, payload=body, secret=secret or None)
    except SigningSecretInvalid as exc:
        return f"failed: N8N_WEBHOOK_SECRET cannot sign: {exc}"
    try:
        status = get_n8n_client().post(url, body=body, headers=headers)
    except N8nError as exc:
        return f"failed: {exc.message}"
    return f"delivered (HTTP {status})"
