"""Standard Webhooks signatures for what the gateway POSTs out (n8n deliveries, bulk-job callbacks).

Headers per https://www.standardwebhooks.com: `webhook-id` (stable across retries, so the
receiver can deduplicate), `webhook-timestamp` (Unix seconds of this attempt) and, when a
secret is configured, `webhook-signature` = `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`.
The HMAC itself comes from the `standardwebhooks` reference library.

Secrets: `whsec_<base64>` is the specification's form and is decoded as base64, exactly as
every Standard Webhooks library does, so such a secret works in any receiver library. Any
other string is used as its UTF-8 bytes (operators paste passwords; base64-decoding those
would silently sign with garbage). A receiver verifies such a secret by keying the HMAC with
the same UTF-8 bytes; docs/n8n.md shows both.
"""
from __future__ import annotations

import base64
import binascii
from datetime import datetime, timezone

from standardwebhooks.webhooks import EmptyWebhookSecretError, Webhook

SECRET_PREFIX = "whsec_"


class SigningSecretInvalid(ValueError):
    """N8N_WEBHOOK_SECRET (or another signing secret) cannot be used as a key."""


def signing_key(secret: str) -> bytes:
    """The HMAC key a secret stands for (see the module docstring for the two forms)."""
    if secret.startswith(SECRET_PREFIX):
        encoded = secret[len(SECRET_PREFIX):].rstrip("=")
        try:  # strict: a mistyped secret must fail loudly, not sign with a key no receiver derives
            key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise SigningSecretInvalid("A whsec_ secret must be base64 after the prefix.") from exc
    else:
        key = secret.encode("utf-8")
    if not key:
        raise SigningSecretInvalid("The signing secret is empty.")
    return key


def signed_headers(*, msg_id: str, payload: bytes, secret: str | None,
                   timestamp: datetime | None = None) -> dict[str, str]:
    """The Standard Webhooks headers for one POST of `payload` (UTF-8 JSON bytes)."""
    moment = (timestamp or datetime.now(timezone.utc))
    moment = moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)
    headers = {"webhook-id": msg_id, "webhook-timestamp": str(int(moment.timestamp()))}
    if secret:
        try:
            signer = Webhook(signing_key(secret))
        except EmptyWebhookSecretError as exc:
            raise SigningSecretInvalid("The signing secret is empty.") from exc
        headers["webhook-signature"] = signer.sign(msg_id=msg_id, timestamp=moment, data=payload.decode("utf-8"))
    return headers
