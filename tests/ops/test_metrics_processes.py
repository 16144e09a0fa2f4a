"""/metrics adds up real processes: two gunicorn workers count the webhooks, the Celery worker's pool
counts the Avito calls and n8n deliveries, and one scrape of any web worker shows them all.

PostgreSQL and Redis as in production; Avito and n8n stood in (tests/webhooks/standin.py).
"""
from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.ops.metrics_scrape import value
from tests.webhooks.avito_payloads import notification
from tests.webhooks.processes import Gateway, wait_until
from tests.webhooks.standin import StandIn

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.e2e, pytest.mark.timeout(120)]

EVENTS = 24
KEY = "k-processes-77ab"
PATH_SECRET = "p-processes-41cd"


@pytest.fixture
def standin():
    server = StandIn().start()
    yield server
    server.stop()


@pytest.fixture
def gateway(tmp_path, standin):
    gateway = Gateway(tmp_path, env={
        "AVITO_API_BASE_URL": standin.url, "AVITO_USER_ID": "1234567", "AVITO_CLIENT_ID": "c",
        "AVITO_CLIENT_SECRET": "s", "N8N_WEBHOOK_URL": standin.n8n_url, "API_KEY": KEY,
        # Production settings take notifications only on the secret path.
        "AVITO_WEBHOOK_SECRET": PATH_SECRET,
        "CONNECTION_TIMEOUT": "2", "MAX_RETRIES": "1", "RETRY_BACKOFF_BASE": "0.1",
    })
    try:
        yield gateway.start()
    except BaseException:
        print(gateway.logs())
        raise
    finally:
        gateway.stop()


def test_one_scrape_adds_up_every_web_and_worker_process(gateway, standin, tmp_path):
    def post(index):
        body = json.dumps(notification(message_id=f"mp-{index:03d}", chat_id=f"u2i-mp{index % 3}")).encode()
        # A connection per request, so the two gunicorn workers share the notifications.
        return requests.post(f"{gateway.url}/webhook/avito/{PATH_SECRET}", data=body, timeout=10,
                             headers={"Content-Type": "application/json", "Connection": "close"}).status_code

    with ThreadPoolExecutor(6) as pool:
        assert list(pool.map(post, range(EVENTS))) == [200] * EVENTS
    assert post(0) == 200  # a repeat
    wait_until(lambda: len(set(standin.delivered_ids())) == EVENTS, 60, "every event delivered to n8n")
    wait_until(lambda: gateway.sql("SELECT count(*) FROM webhooks_delivery WHERE status = 'delivered'")[0][0]
               == EVENTS, 20, "every delivery row recorded")

    assert requests.get(f"{gateway.url}/metrics", timeout=10).status_code == 401
    text = requests.get(f"{gateway.url}/metrics", headers={"Authorization": f"Bearer {KEY}"}, timeout=10).text

    assert value(text, "avitogw_webhook_events_total", outcome="stored") == EVENTS   # gunicorn workers
    assert value(text, "avitogw_webhook_events_total", outcome="duplicate") == 1
    assert value(text, "avitogw_n8n_deliveries_total", outcome="delivered") == EVENTS  # Celery pool
    assert value(text, "avitogw_n8n_delivery_lag_seconds_count", attempt="first") == EVENTS
    assert value(text, "avitogw_avito_requests_total", operation="getAccessToken", status="200") >= 1
    assert value(text, "avitogw_avito_requests_total", operation="getChatByIdV2", status="200") >= 1
    assert value(text, "avitogw_n8n_delivery_backlog", status="pending") == 0
    assert value(text, "avitogw_avito_token_expires_in_seconds") > 0

    # The counts came from several processes' files: web workers and the worker's pool.
    counting = {path.name.split("_")[-1] for path in (tmp_path / "data" / "metrics").glob("counter_*.db")}
    assert len(counting) >= 2, counting
