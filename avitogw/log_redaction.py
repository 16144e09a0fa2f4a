"""Secrets out of every log line: above all the webhook's path secret, which is in every request line.

`RedactSecrets` is a logging filter. It rewrites a record's message (and its traceback)
before any handler formats it: any `/webhook/avito/<anything>` path becomes
`/webhook/avito/[redacted]` (so even a wrong guess is not written down), and the value of
each configured secret (AVITO_WEBHOOK_SECRET, AVITO_CLIENT_SECRET, N8N_WEBHOOK_SECRET,
API_KEY) is replaced wherever it appears. It is installed on Django's console handler
and the `django` loggers (settings.LOGGING: `django.request` logs the path of every 4xx
and 500) and on gunicorn's access and error logs (gunicorn.conf.py). An error tracker
added later must pass its events through `redact` too (for Sentry: `before_send`).
"""
from __future__ import annotations

import logging
import re

from avitogw import config

SECRET_VARIABLES = ("AVITO_WEBHOOK_SECRET", "AVITO_CLIENT_SECRET", "N8N_WEBHOOK_SECRET", "API_KEY")
WEBHOOK_PATH = re.compile(r"(/webhook/avito/)[^\s\"'?#]+")
SHORTEST_REPLACED = 6  # a shorter value would garble ordinary words; the path rule still hides it there
REDACTED = "[redacted]"


def configured_secrets() -> list[str]:
    return [value for value in (config.read_str(name) for name in SECRET_VARIABLES) if len(value) >= SHORTEST_REPLACED]


def redact(text: str, secrets: list[str]) -> str:
    text = WEBHOOK_PATH.sub(r"\1" + REDACTED, text)
    for secret in secrets:
        text = text.replace(secret, REDACTED)
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
