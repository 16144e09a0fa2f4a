"""/health checks the database and Redis; /info shows the configuration and never a secret."""
from __future__ import annotations

from unittest import mock

import pytest
from django.db import OperationalError, connection

from messenger.avito import reset_client

pytestmark = pytest.mark.django_db


def test_health_ok_without_redis(api, settings):
    settings.AVITO_WEBHOOK_SECRET = "path-secret"
    response = api.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "redis": "disabled",
                                                          "webhook_secret": "ok", "reconcile": "disabled"},
                               "reconcile": {"interval": 0, "last_success_at": None, "last_success_age": None,
                                             "lag_seconds": None}}


def test_health_is_degraded_without_a_webhook_secret(api, settings):
    settings.AVITO_WEBHOOK_SECRET = ""
    response = api.get("/health")
    assert response.status_code == 200  # the gateway works; it is only open to anyone who finds the path
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["webhook_secret"].startswith("missing")


def test_start_up_warns_without_a_webhook_secret(settings, caplog):
    from avitogw.startup import warn_about_configuration

    settings.AVITO_WEBHOOK_SECRET = ""
    with caplog.at_level("WARNING"):
        warn_about_configuration()
    assert any("AVITO_WEBHOOK_SECRET" in r.getMessage() and r.levelname == "WARNING" for r in caplog.records)
    caplog.clear()
    settings.AVITO_WEBHOOK_SECRET = "path-secret"
    with caplog.at_level("WARNING"):
        warn_about_configuration()
    assert not [r for r in caplog.records if "AVITO_WEBHOOK_SECRET" in r.getMessage()]


@pytest.mark.redis
def test_health_pings_redis_when_configured(api, settings, redis_url):
    settings.REDIS_URL = redis_url
    reset_client()
    assert api.get("/health").json()["checks"]["redis"] == "ok"


def test_unreachable_redis_is_reported_but_not_fatal(api, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    reset_client()
    response = api.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded" and body["checks"]["redis"] == "error: unreachable"
    assert "127.0.0.1" not in response.content.decode()  # the state, not the address


def test_a_failing_redis_reports_its_state_only(api, settings):
    import redis

    settings.REDIS_URL = "redis://:pw@127.0.0.1:1/0"
    reset_client()
    with mock.patch.object(redis.Redis, "ping", side_effect=redis.exceptions.ResponseError("NOAUTH at 10.0.0.5")):
        body = api.get("/health").json()
    assert body["checks"]["redis"] == "error: failing"


def test_unreachable_database_is_503(api):
    with mock.patch.object(connection, "cursor", side_effect=OperationalError("could not connect to server")):
        response = api.get("/health")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error" and body["checks"]["database"] == "error: unreachable"


def test_info_shows_the_configuration_without_secrets(api, settings):
    settings.API_KEY = "api-key-secret-1"
    settings.AVITO_CLIENT_SECRET = "client-secret-2"
    settings.N8N_WEBHOOK_SECRET = "n8n-secret-3"
    settings.AVITO_WEBHOOK_SECRET = "webhook-secret-4"
    settings.N8N_WEBHOOK_URL = "https://n8n.example.com/webhook/private-id-5"
    settings.REDIS_URL = "redis://:redis-password-6@127.0.0.1:6379/0"
    response = api.get("/info", HTTP_X_API_KEY="api-key-secret-1")  # the details are for a key holder
    assert response.status_code == 200
    text = response.content.decode()
    for secret in ("api-key-secret-1", "client-secret-2", "n8n-secret-3", "webhook-secret-4", "private-id-5",
                   "redis-password-6"):
        assert secret not in text
    body = response.json()
    assert body["avito"]["user_id"] == 1234567 and body["avito"]["api_base_url"] == "https://api.avito.ru"
    assert body["api"] == {"api_key_configured": True, "rate_limit": "600/m", "image_url_allow_private": False}
    assert body["redis_configured"] is True and body["n8n"]["delivery_configured"] is True
    assert body["rate_limit"] == {"requests": 1000, "window_seconds": 60}
    assert body["avito"]["max_retries"] == 3 and body["avito"]["connection_timeout"] == 5


@pytest.mark.parametrize("secret, warned", [("", True), ("path-secret", False)])
def test_the_web_process_warns_at_start_up(tmp_path, secret, warned):
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_"))},
           "AVITO_WEBHOOK_SECRET": secret, "SECRET_KEY": "s" * 50, "DATA_DIR": str(tmp_path)}
    started = subprocess.run([sys.executable, "-c", "import avitogw.wsgi"], env=env, capture_output=True, text=True,
                             timeout=60, cwd=Path(__file__).resolve().parents[2])
    assert started.returncode == 0, started.stderr
    assert ("avitogw.startup AVITO_WEBHOOK_SECRET is not set" in started.stderr) is warned, started.stderr
    if warned:  # production settings (the default): notifications are refused, an error, not a warning
        assert "ERROR avitogw.startup AVITO_WEBHOOK_SECRET is not set" in started.stderr
        assert "refuses every notification" in started.stderr


KEY = "k-details-7d1e"
ACCOUNT_ID = "1234567"


def test_without_the_key_health_names_the_checks_but_not_what_is_wrong(api, settings):
    settings.API_KEY = KEY
    settings.AVITO_WEBHOOK_SECRET = ""  # "missing: ... anyone ... can post" in the detailed answer
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    reset_client()
    stranger = api.get("/health", HTTP_X_API_KEY="wrong")
    assert stranger.status_code == 200
    assert stranger.json() == {"status": "degraded", "checks": {"database": "ok", "redis": "error",
                                                                "webhook_secret": "error", "reconcile": "disabled"}}
    holder = api.get("/health", HTTP_X_API_KEY=KEY).json()
    assert holder["checks"]["webhook_secret"].startswith("missing: AVITO_WEBHOOK_SECRET")
    assert holder["checks"]["redis"] == "error: unreachable" and "reconcile" in holder


def test_without_the_key_a_failing_database_is_still_503_and_terse(api, settings):
    settings.API_KEY = KEY
    with mock.patch.object(connection, "cursor", side_effect=OperationalError("could not connect to server")):
        response = api.get("/health")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "checks": {"database": "error", "redis": "disabled",
                                                             "webhook_secret": "error"}}


def test_without_the_key_info_shows_the_version_and_booleans_only(api, settings):
    settings.API_KEY = KEY
    settings.PUBLIC_BASE_URL = "https://gw.example.com"
    settings.N8N_WEBHOOK_URL = "https://n8n.example.com/webhook/x"
    body = api.get("/info").json()
    assert body == {
        "version": settings.VERSION, "api_access": "api_key",
        "avito": {"credentials_configured": True, "webhook_secret_configured": False},
        "api": {"api_key_configured": True, "image_url_allow_private": False},
        "redis_configured": False,
        "n8n": {"delivery_configured": True, "signing_configured": False, "forward_own_messages": False},
    }
    text = api.get("/info").content.decode()
    assert ACCOUNT_ID not in text and "example.com" not in text and "avito.ru" not in text
    detailed = api.get("/info", HTTP_AUTHORIZATION=f"Bearer {KEY}").json()
    assert detailed["avito"]["user_id"] == int(ACCOUNT_ID)
    assert detailed["avito"]["public_base_url"] == "https://gw.example.com"


def test_without_an_api_key_only_callers_on_this_machine_see_details(api, settings):
    settings.AVITO_WEBHOOK_SECRET = ""
    local = api.get("/health", REMOTE_ADDR="127.0.0.1").json()
    remote = api.get("/health", REMOTE_ADDR="203.0.113.9").json()
    assert local["checks"]["webhook_secret"].startswith("missing") and "reconcile" in local
    assert remote["checks"]["webhook_secret"] == "error" and "reconcile" not in remote
    assert api.get("/info", REMOTE_ADDR="127.0.0.1").json()["avito"]["user_id"] == int(ACCOUNT_ID)
    assert "user_id" not in api.get("/info", REMOTE_ADDR="203.0.113.9").json()["avito"]
