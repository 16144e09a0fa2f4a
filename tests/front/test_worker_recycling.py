"""A web worker recycled under load (max_requests) breaks no client's request.

Clients keep their connections alive and send the next request at once. When the buffering
worker (avitogw/buffering_worker.py) stopped after its max_requests, it used to drop at once
every connection on which it had not yet read a byte, though a client's next request could
already be on the wire: under load some requests failed with a broken connection (seen in
bench/webhook_ingest.py, never with plain gthread). It now lingers as gthread does, and
answers such a request with "Connection: close".
"""
from __future__ import annotations

import threading

import pytest
import requests

from tests.front.processes import gunicorn

pytestmark = pytest.mark.e2e

CLIENTS, REQUESTS_EACH = 6, 60


@pytest.mark.timeout(180)
def test_keep_alive_clients_see_no_broken_connection_while_workers_recycle(tmp_path):
    # 2 workers of 2 threads, each recycled after about 25 requests: 360 requests recycle them ~14 times.
    with gunicorn(tmp_path, migrate=True, WEB_CONCURRENCY="2",
                  GUNICORN_CMD_ARGS="--max-requests 25 --max-requests-jitter 5 --threads 2") as port:
        failures, statuses = [], []

        def client():
            with requests.Session() as session:
                for _ in range(REQUESTS_EACH):
                    try:
                        statuses.append(session.get(f"http://127.0.0.1:{port}/health", timeout=10).status_code)
                    except requests.RequestException as exc:
                        failures.append(repr(exc))

        threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=150)
    assert failures == []
    assert statuses.count(200) == CLIENTS * REQUESTS_EACH
