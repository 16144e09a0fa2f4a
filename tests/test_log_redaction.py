"""core.log_redaction: the webhook path and every configured secret leave no trace in a log record."""
from __future__ import annotations

import logging

from core.log_redaction import RedactSecrets


def _record(msg, *args, exc_info=None) -> logging.LogRecord:
    return logging.LogRecord("django.request", logging.WARNING, __file__, 1, msg, args, exc_info)


def test_the_webhook_path_is_redacted_whatever_follows_it():
    record = _record("%s: %s", "Not Found", "/webhook/avito/guess-123?x=1")
    RedactSecrets(secrets=[]).filter(record)
    assert record.getMessage() == "Not Found: /webhook/avito/[redacted]?x=1"


def test_configured_secrets_are_redacted_in_the_message_and_the_traceback():
    try:
        raise ValueError("bad key api-key-0042 seen")
    except ValueError:
        import sys

        record = _record("calling with %s", "api-key-0042", exc_info=sys.exc_info())
    RedactSecrets(secrets=["api-key-0042"]).filter(record)
    assert "api-key-0042" not in record.getMessage() + record.exc_text
    assert "[redacted]" in record.exc_text


def test_secrets_are_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("AVITO_WEBHOOK_SECRET", "env-secret-77")
    monkeypatch.setenv("API_KEY", "")
    record = _record("posted to https://gw/x/env-secret-77")
    RedactSecrets().filter(record)
    assert record.getMessage() == "posted to https://gw/x/[redacted]"


def test_a_json_line_carries_the_traceback_redacted_by_the_filter():
    import io
    import json

    from core.logs import JsonFormatter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactSecrets(secrets=["n8n-secret-31337"]))
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("tests.redaction.json")
    logger.addHandler(handler)
    try:
        raise RuntimeError("signing with n8n-secret-31337 failed for https://u:pw123456@n8n/hook")
    except RuntimeError:
        logger.exception("delivery to /webhook/avito/abc failed: Bearer eyJhbGciOi.J9abc")
    finally:
        logger.removeHandler(handler)
    entry = json.loads(stream.getvalue())
    assert "n8n-secret-31337" not in entry["exception"] and "pw123456" not in entry["exception"]
    assert "RuntimeError" in entry["exception"]
    assert entry["message"] == "delivery to /webhook/avito/[redacted] failed: Bearer [redacted]"
