"""Secrets out of every log line, in one place: the webhook's path secret and every other secret.

`redact` rewrites a text: any `/webhook/avito/<anything>` path becomes
`/webhook/avito/[redacted]` (so even a wrong guess is not written down); the value of each
configured secret (SECRET_KEY, API_KEY, AVITO_CLIENT_SECRET, N8N_WEBHOOK_SECRET,
AVITO_WEBHOOK_SECRET) and the password of each service URL (DATABASE_URL, REDIS_URL,
CELERY_BROKER_URL) is replaced wherever it appears; and bearer tokens, `client_secret=...`,
`access_token`, `api_key`, `X-API-Key` values and URL passwords are replaced whoever logged them.

`RedactSecrets`, a logging filter, applies it to a record's message and traceback before
any handler formats it. It sits on the one console handler of every process
(core.logs.logging_config: Django, Celery and gunicorn all log through it) and on
gunicorn's access and error logs (gunicorn.conf.py), so the formatters never see a secret.
An error tracker added later must pass its events through `redact` too (for Sentry:
`before_send`).
"""
from __future__ import annotations

import logging
import re
from urllib.parse import urlsplit

from core import environment as config

SECRET_VARIABLES = ("SECRET_KEY", "API_KEY", "AVITO_CLIENT_SECRET", "N8N_WEBHOOK_SECRET", "AVITO_WEBHOOK_SECRET")
LIST_VARIABLES = ("ENCRYPTION_KEYS",)  # comma lists: each item hidden on its own
URL_VARIABLES = ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL")
SHORTEST_REPLACED = 6  # a shorter value would garble ordinary words; the patterns still hide it in context
REDACTED = "[redacted]"
PATTERNS = [
    (re.compile(r"(/webhook/avito/)[^\s\"'?#]+"), rf"\1{REDACTED}"),
    (re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]{8,}"), rf"\1{REDACTED}"),
    (re.compile(r"(?i)((?:client_secret|access_token|api_key|x-api-key)[\"']?\s*[=:]\s*[\"']?)[^\s&\"',}]+"),
     rf"\1{REDACTED}"),
    (re.compile(r"(://[^/\s:@]+:)[^/\s@]+@"), rf"\1{REDACTED}@"),
]


def configured_secrets() -> list[str]:
    """The values to hide, from the environment (settings and gunicorn both load `.env` into it),
    longest first, so a secret that contains another is hidden whole."""
    values = [config.read_str(name) for name in SECRET_VARIABLES]
    values += [item for name in LIST_VARIABLES for item in config.read_list(name)]
    for name in URL_VARIABLES:
        try:
            values.append(urlsplit(config.read_str(name)).password or "")
        except ValueError:
            continue
    return sorted({value for value in values if len(value) >= SHORTEST_REPLACED}, key=len, reverse=True)


def redact(text: str, secrets: list[str] | None = None) -> str:
    """`text` with every secret replaced; `secrets` defaults to the configured ones."""
    for secret in configured_secrets() if secrets is None else secrets:
        text = text.replace(secret, REDACTED)
    for pattern, replacement in PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactSecrets(logging.Filter):
    def __init__(self, name: str = "", secrets: list[str] | None = None):
        super().__init__(name)
        self.secrets = configured_secrets() if secrets is None else secrets

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message, self.secrets)
        if clean != message:
            record.msg, record.args = clean, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self.secrets)
        return True
