"""The webhook's path secret never reaches a log, and hostile bodies get the envelope, on real processes.

gunicorn (its access and error logs), Django's `django.request` warnings and the Celery
worker run as they do in production, on PostgreSQL (whose jsonb refuses what SQLite
accepts) and Redis. The test posts good and bad notifications to the secret path, a
wrong secret, other methods, and bodies that once made the webhook answer 500, then
greps every process's log for every secret.
"""
from __future__ import annotations

import json

import pytest
import requests

from tests.webhooks.avito_payloads import notification
from tests.webhooks.processes import Gateway, wait_until
from tests.webhooks.standin import StandIn

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.timeout(120)]

PATH_SECRET = "pathsecret-7Hq2xZ"
SECRETS = {"AVITO_WEBHOOK_SECRET": PATH_SECRET, "AVITO_CLIENT_SECRET": "client-secret-9Kd3",
           "N8N_WEBHOOK_SECRET": "n8n-secret-4Lp8Wq", "API_KEY": "api-key-6Rt5Yu"}
HOSTILE_BODIES = [
    '{"id": "e1", "payload": {"type": "message", "value": {"id": "m1", "chat_id": "u2i-a", "t": "\\ud800"}}}',
    '{"id": "e2", "payload": {"type": "message", "value": {"id": "m2", "chat_id": "u2i-a", "created": NaN}}}',
    "[" * 10000 + "]" * 10000,
    "{not json",
]


@pytest.fixture
def gateway(tmp_path):
    standin = StandIn().start()
    gateway = Gateway(tmp_path, env={
        "AVITO_API_BASE_URL": standin.url, "AVITO_USER_ID": "1234567", "AVITO_CLIENT_ID": "c",
        "N8N_WEBHOOK_URL": standin.n8n_url, "CONNECTION_TIMEOUT": "2", "MAX_RETRIES": "0", **SECRETS,
    })
    try:
        yield gateway.start(), standin
    except BaseException:
        print(gateway.logs())
        raise
    finally:
        gateway.stop()
        standin.stop()


def test_no_secret_in_any_log_and_no_500_for_hostile_bodies(gateway):
    gateway, standin = gateway
    hook = f"{gateway.url}/webhook/avito/{PATH_SECRET}"
    good = notification()
    assert requests.post(hook, json=good, timeout=5).status_code == 200
    assert requests.post(f"{hook}x", json=good, timeout=5).status_code == 404
    assert requests.post(f"{gateway.url}/webhook/avito", json=good, timeout=5).status_code == 404
    assert requests.request("TRACE", hook, timeout=5).status_code == 405
    assert requests.get(f"{hook}?token={PATH_SECRET}", timeout=5).status_code == 405
    for body in HOSTILE_BODIES:
        response = requests.post(hook, data=body.encode(), headers={"Content-Type": "application/json"}, timeout=5)
        assert response.status_code == 400, (body[:60], response.text)
        assert response.json()["error"]["code"] == "parse_error"
    huge = json.dumps(notification()).replace('"created": 1718000000', '"created": 1e400')
    assert requests.post(hook, data=huge, headers={"Content-Type": "application/json"}, timeout=5).status_code == 200
    hostile_id = notification(chat_id="u2i-ok")
    hostile_id["payload"]["value"]["chat_id"] = "../../etc/passwd"
    assert requests.post(hook, json=hostile_id, timeout=5).status_code == 200

    wait_until(lambda: standin.delivered_ids(), 30, "the good message's delivery to n8n")
    statuses = dict(gateway.sql("SELECT message_id, status FROM webhooks_incomingevent"))
    assert statuses[good["payload"]["value"]["id"]] == "processed"
    assert statuses[hostile_id["payload"]["value"]["id"]] == "unprocessable"
    assert sorted(statuses.values()).count("unprocessable") == 2  # the 1e400 one too
    assert not [call for call in standin.chat_calls if "passwd" in call or ".." in call]

    logs = {path.name: path.read_text(errors="replace") for path in gateway.workdir.glob("*.log")}
    assert set(logs) == {"web.log", "worker.log"}
    # The access log and django.request did log those requests, with the path redacted.
    assert '"POST /webhook/avito/[redacted] HTTP/1.1" 200' in logs["web.log"]
    assert "WARNING django.request Method Not Allowed: /webhook/avito/[redacted]" in logs["web.log"]
    for name, text in logs.items():
        for variable, secret in SECRETS.items():
            assert secret not in text, f"{variable} in {name}"
