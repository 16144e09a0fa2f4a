"""Start-up configuration: bad values stop the process with the variable's name; defaults work."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def manage_check(tmp_path, **env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AVITO", "DJANGO", "PYTEST"))}
    clean.update({"DATA_DIR": str(tmp_path), "SECRET_KEY": "x" * 50}, **env)
    return subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=clean,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("name, value", [
    ("RATE_LIMIT_REQUESTS", "many"), ("MAX_CONNECTIONS", "0"), ("RETRY_BACKOFF_BASE", "fast"),
    ("DEBUG", "maybe"), ("FORWARD_OWN_MESSAGES", "sometimes"), ("API_RATE_LIMIT", "600 per minute"),
    ("AVITO_API_BASE_URL", "api.avito.ru"), ("AVITO_USER_ID", "me"), ("RECONCILE_INTERVAL", "-1"),
])
def test_bad_value_stops_start_up_naming_the_variable(tmp_path, name, value):
    result = manage_check(tmp_path, **{name: value})
    assert result.returncode != 0
    assert name in result.stderr
    assert "Traceback" not in result.stderr


def test_production_refuses_a_missing_or_placeholder_secret_key(tmp_path):
    for key in ("", "change-me"):
        result = manage_check(tmp_path, SECRET_KEY=key, DEBUG="false")
        assert result.returncode != 0
        assert "SECRET_KEY" in result.stderr


def test_defaults_need_no_services(tmp_path):
    result = manage_check(tmp_path)
    assert result.returncode == 0, result.stderr
    assert not list(tmp_path.glob("broker*"))  # the embedded broker's file appears only once a process opens it


def test_empty_lines_of_env_example_mean_defaults(tmp_path, monkeypatch):
    env_file_values = {line.split("=", 1)[0]: line.split("=", 1)[1]
                       for line in (ROOT / ".env.example").read_text().splitlines()
                       if line and not line.startswith("#")}
    env_file_values.update(SECRET_KEY="y" * 50, DATA_DIR=str(tmp_path))
    result = manage_check(tmp_path, **env_file_values)
    assert result.returncode == 0, result.stderr


CONTRACT_VARIABLES = [
    "AVITO_CLIENT_ID", "AVITO_CLIENT_SECRET", "AVITO_USER_ID", "AVITO_API_BASE_URL", "REDIS_URL",
    "CELERY_BROKER_URL", "DATABASE_URL", "N8N_WEBHOOK_URL", "N8N_WEBHOOK_SECRET", "AVITO_WEBHOOK_SECRET",
    "PUBLIC_BASE_URL", "SERVER_HOST", "SERVER_PORT", "RATE_LIMIT_REQUESTS", "RATE_LIMIT_WINDOW",
    "MAX_CONNECTIONS", "MAX_RETRIES", "RETRY_BACKOFF_BASE", "CONNECTION_TIMEOUT", "API_KEY", "API_RATE_LIMIT",
    "N8N_FORWARD_MAX_ATTEMPTS", "N8N_FORWARD_BACKOFF_BASE", "N8N_FORWARD_BACKOFF_MAX", "FORWARD_OWN_MESSAGES",
    "EVENT_MAX_ATTEMPTS", "EVENT_BACKOFF_BASE", "EVENT_BACKOFF_MAX",
    "IMAGE_URL_ALLOW_PRIVATE", "RECONCILE_INTERVAL", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS",
]


def test_env_example_lists_every_contract_variable_with_an_explanation():
    lines = (ROOT / ".env.example").read_text().splitlines()
    for name in CONTRACT_VARIABLES:
        [index] = [i for i, line in enumerate(lines) if line.startswith(f"{name}=")]
        while index > 0 and "=" in lines[index - 1] and not lines[index - 1].startswith("#"):
            index -= 1  # variables of one group share the comment above the group
        assert lines[index - 1].startswith("# "), f"{name} has no explanation"
