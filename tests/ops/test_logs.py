"""Logs an operator can use: JSON lines with the ids of the work at hand, no secrets, quiet sweeps."""
from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
from datetime import timedelta

import pytest
import responses
from django.test import Client
from django.utils import timezone

from core import logs
from core.log_redaction import redact
from core.logs import JsonFormatter, QuietRoutine, TextFormatter, log_context, logging_config
from tests.ops.test_secure_default import ROOT
from tests.webhooks.avito_payloads import N8N_URL
from tests.webhooks.test_delivery import a_delivery, first_attempt
from webhooks.models import IncomingEvent
from core.work.sweep import work_sweep

pytestmark = pytest.mark.django_db


@pytest.fixture
def json_lines():
    """Every log record of the test, as the JSON formatter writes it (with the gateway's filters)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(logs.ContextFilter())
    handler.addFilter(routine())
    root = logging.getLogger()
    saved = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)
    root.setLevel(saved)


def test_a_request_gets_an_id_returned_and_on_its_log_lines(json_lines):
    response = Client(REMOTE_ADDR="203.0.113.9").get("/api/chats")  # refused: Django logs "Forbidden"
    request_id = response["X-Request-ID"]
    assert len(request_id) == 32
    [line] = [entry for entry in json_lines() if entry["logger"] == "django.request"]
    assert line["request_id"] == request_id
    assert line["level"] == "WARNING" and "Forbidden: /api/chats" in line["message"]


def test_a_sane_caller_request_id_is_kept_and_a_strange_one_replaced():
    assert Client().get("/health", HTTP_X_REQUEST_ID="n8n-exec-42:7").headers["X-Request-ID"] == "n8n-exec-42:7"
    replaced = Client().get("/health", HTTP_X_REQUEST_ID="<script>" + "x" * 80).headers["X-Request-ID"]
    assert len(replaced) == 32 and "<" not in replaced


def test_the_request_id_does_not_outlive_its_request(json_lines):
    Client().get("/health")
    logging.getLogger("after").warning("later")
    assert "request_id" not in json_lines()[-1]


@pytest.mark.usefixtures("n8n_settings")
def test_a_delivery_failure_line_names_its_event(json_lines):
    with responses.RequestsMock() as n8n:
        n8n.post(N8N_URL, status=500)
        first_attempt(a_delivery(message_id="m-77"))
    [line] = [entry for entry in json_lines() if entry["logger"] == "webhooks.delivery"]
    assert line["event_id"] == "avito-msg-m-77"
    assert line["level"] == "WARNING"


def test_an_idle_sweep_logs_at_debug_and_a_busy_one_at_info(json_lines):
    work_sweep()
    [idle] = [entry for entry in json_lines() if entry["logger"] == "core.work.sweep"]
    assert idle["level"] == "DEBUG"
    IncomingEvent.objects.create(message_id="m-s", chat_id="u2i-a", event_type="message", raw={},
                                 next_attempt_at=timezone.now() - timedelta(minutes=5))
    work_sweep()
    busy = [entry for entry in json_lines() if entry["logger"] == "core.work.sweep"][-1]
    assert busy["level"] == "INFO" and "1 events woken" in busy["message"]


def routine() -> QuietRoutine:
    """The filter as the settings configure it (beat's entries and tasks are the routine ones)."""
    from django.conf import settings

    return QuietRoutine(settings.LOGGING["filters"]["quiet_routine"]["tasks"])


def _record(name: str, message: str, *args) -> logging.LogRecord:
    return logging.LogRecord(name, logging.INFO, __file__, 1, message, args or None, None)


@pytest.mark.parametrize("name, message, args", [
    ("celery.beat", "Scheduler: Sending due task %s (%s)", ("work-sweep", "core.work.sweep")),
    ("celery.worker.strategy", "Task %s[%s] received", ("core.work.sweep", "abc")),
    ("celery.app.trace", "Task %s[%s] succeeded in %ss: %s", ("core.work.sweep", "abc", 0.01, None)),
])
def test_celerys_lines_about_the_sweeps_are_debug(name, message, args):
    record = _record(name, message, *args)
    assert routine().filter(record) is False  # the logger is at INFO: dropped
    assert record.levelname == "DEBUG"
    logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        assert routine().filter(_record(name, message, *args)) is True
    finally:
        logging.getLogger(name).setLevel(logging.NOTSET)


def test_celerys_lines_about_real_work_stay_info():
    record = _record("celery.app.trace", "Task %s[%s] succeeded in %ss: %s", "webhooks.tasks.delivery_attempt",
                     "abc", 0.2, None)
    assert routine().filter(record) is True and record.levelname == "INFO"


def test_secrets_never_reach_a_line(monkeypatch):
    monkeypatch.setenv("AVITO_CLIENT_SECRET", "avito-secret-9f8e7d")
    monkeypatch.setenv("API_KEY", "gw-api-key-1234567")
    monkeypatch.setenv("DATABASE_URL", "postgres://gw:db-pass-556677@db/gw")
    line = redact("POST /token client_secret=avito-secret-9f8e7d&client_id=x; X-API-Key: gw-api-key-1234567; "
                  "Authorization: Bearer eyJhbGciOi.J9abc; connect postgres://gw:db-pass-556677@db/gw failed")
    for secret in ("avito-secret-9f8e7d", "gw-api-key-1234567", "eyJhbGciOi.J9abc", "db-pass-556677"):
        assert secret not in line
    assert "client_id=x" in line and "postgres://gw:[redacted]@db/gw" in line


def test_both_formats_carry_the_ids_and_json_is_one_object_per_line():
    with log_context(request_id="r-1", job_id="j-2"):
        record = _record("bulk.sending", "line one\nline two")
        logs.ContextFilter().filter(record)
    text = TextFormatter().format(record)
    assert text.endswith("[request_id=r-1 job_id=j-2]")
    entry = JsonFormatter().format(record)
    assert "\n" not in entry
    assert json.loads(entry)["message"] == "line one\nline two" and json.loads(entry)["job_id"] == "j-2"


def test_logging_config_uses_the_chosen_formatter():
    assert logging_config(log_format="json", level="info")["formatters"]["gateway"]["()"].endswith("JsonFormatter")
    assert logging_config(log_format="text", level="info")["root"]["level"] == "INFO"


def test_an_unknown_log_format_stops_start_up_naming_the_variable():
    result = subprocess.run([sys.executable, "-c", "import django; django.setup()"], cwd=ROOT, capture_output=True,
                            text=True, timeout=60,
                            env={"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "avitogw.settings", "DEBUG": "1",
                                 "LOG_FORMAT": "xml", "DATA_DIR": str(ROOT / "data")})
    assert result.returncode != 0
    assert "LOG_FORMAT='xml' is not valid" in result.stderr
