"""Real processes: gunicorn and a Celery worker on PostgreSQL + Redis, Avito and n8n stood in.

Avito sends every notification twice at the same moment; n8n is slow and refuses the
first attempt of some events; the worker is killed with SIGKILL while events arrive and
is started again. Every event must reach n8n, signed, and any repeat must carry the same
webhook-id (at-least-once). The test plays Celery beat by sending the sweep every second.
"""
from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from celery import Celery
from standardwebhooks import Webhook

from tests.webhooks.avito_payloads import notification
from tests.webhooks.processes import Gateway, wait_until
from tests.webhooks.standin import StandIn

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.timeout(120)]

ACCOUNT = 1234567
PATH_SECRET = "path-secret-4f2a"
N8N_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
EVENTS = 40
CHATS = [f"u2i-chat{index:04d}" for index in range(5)]


def flaky(webhook_id: str) -> bool:
    """n8n refuses the first attempt of every fourth event."""
    return int(webhook_id.rsplit("-", 1)[-1]) % 4 == 0


@pytest.fixture
def standin():
    server = StandIn(n8n_delay=0.15, fail_first_attempt=flaky).start()
    yield server
    server.stop()


@pytest.fixture
def gateway(tmp_path, standin):
    gateway = Gateway(tmp_path, env={
        "AVITO_API_BASE_URL": standin.url, "AVITO_USER_ID": str(ACCOUNT), "AVITO_CLIENT_ID": "c",
        "AVITO_CLIENT_SECRET": "s", "AVITO_WEBHOOK_SECRET": PATH_SECRET, "N8N_WEBHOOK_URL": standin.n8n_url,
        "N8N_WEBHOOK_SECRET": N8N_SECRET, "N8N_FORWARD_BACKOFF_BASE": "0.5", "N8N_FORWARD_BACKOFF_MAX": "2",
        "EVENT_BACKOFF_BASE": "0.5", "EVENT_BACKOFF_MAX": "2",
        "CONNECTION_TIMEOUT": "2", "MAX_RETRIES": "1", "RETRY_BACKOFF_BASE": "0.1",
    })
    try:
        yield gateway.start()
    except BaseException:
        print(gateway.logs())
        raise
    finally:
        gateway.stop()


class Beat:
    """Sends the sweep every second, as Celery beat would every 10 s."""

    def __init__(self, broker_url: str):
        self.app = Celery(broker=broker_url)
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self.stopped.wait(1.0):
            self.app.send_task("core.work.sweep")

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stopped.set()
        self.thread.join(5)
        self.app.close()


def test_every_event_reaches_n8n_despite_duplicates_n8n_failures_and_a_killed_worker(gateway, standin):
    bodies = [notification(message_id=f"rw-{index:04d}", chat_id=CHATS[index % len(CHATS)],
                           content={"text": f"Сообщение {index}"}) for index in range(EVENTS)]
    url = f"{gateway.url}/webhook/avito/{PATH_SECRET}"
    latencies, statuses = [], []
    lock = threading.Lock()

    def avito_posts(body):
        data = json.dumps(body, ensure_ascii=False).encode()
        started = time.monotonic()
        status = requests.post(url, data=data, headers={"Content-Type": "application/json"}, timeout=10).status_code
        with lock:
            latencies.append(time.monotonic() - started)
            statuses.append(status)

    with Beat(gateway.redis_url), ThreadPoolExecutor(8) as pool:
        # Each notification twice at once (Avito repeating itself), in two waves around the kill.
        list(pool.map(avito_posts, [body for body in bodies[:EVENTS // 2] for _ in range(2)]))
        wait_until(lambda: len(standin.delivered_ids()) >= 3, 20, "the first deliveries")
        gateway.kill_worker()  # mid-stream: deliveries in flight, tasks reserved, events unprocessed
        killed_at, killed_time = len(standin.delivered_ids()), time.monotonic()
        list(pool.map(avito_posts, [body for body in bodies[EVENTS // 2:] for _ in range(2)]))
        gateway.start_worker()

        expected = {f"avito-msg-rw-{index:04d}" for index in range(EVENTS)}

        def settled():
            # n8n has every event, and the rows say so (a POST the killed worker made may have
            # reached n8n without being recorded: its row is taken back after the lease and sent again)
            return expected <= set(standin.delivered_ids()) and gateway.sql(
                "SELECT count(*) FROM webhooks_delivery WHERE status = 'delivered'")[0][0] == EVENTS

        try:
            # Within a minute of the kill: the dead worker's leases (30 s) run out, the sweep hands them on.
            wait_until(settled, 60 - (time.monotonic() - killed_time), "every event in n8n and every row delivered")
        except TimeoutError:
            print(gateway.logs())
            raise

    recovered = time.monotonic()
    assert statuses == [200] * (2 * EVENTS)
    received = standin.delivered
    for item in received:
        payload = Webhook(N8N_SECRET).verify(item.body, item.headers)  # signed, and signed right
        assert payload["event_id"] == item.webhook_id  # so a repeat always carries the same webhook-id
    repeats = len(received) - len({item.webhook_id for item in received})
    rows = dict(gateway.sql("SELECT status, count(*) FROM webhooks_delivery GROUP BY status"))
    events = gateway.sql("SELECT count(*), sum(repeats) FROM webhooks_incomingevent")[0]
    assert rows == {"delivered": EVENTS}
    assert events == (EVENTS, EVENTS)  # one row per message id; every second copy counted and dropped
    assert set(standin.refused) == {i for i in expected if flaky(i)}  # those were delivered on a retry
    print(f"\n{EVENTS} events, {2 * EVENTS} notifications; delivered {len(received)} times "
          f"({repeats} repeats with the same webhook-id); {killed_at} delivered before the kill; settled "
          f"{recovered - killed_time:.0f} s after it; "
          f"webhook answers: max {max(latencies) * 1000:.0f} ms, "
          f"median {sorted(latencies)[len(latencies) // 2] * 1000:.0f} ms")


def test_connections_the_database_dropped_cost_no_notification(gateway):
    """No `SELECT 1` health check per request: a connection PostgreSQL ended (a restart, an admin's
    pg_terminate_backend) shows at the webhook's INSERT, which is tried again on a new one."""
    url = f"{gateway.url}/webhook/avito/{PATH_SECRET}"

    def post(index):
        body = json.dumps(notification(message_id=f"drop-{index:03d}", chat_id=CHATS[0])).encode()
        return requests.post(url, data=body, headers={"Content-Type": "application/json"}, timeout=10).status_code

    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(post, range(40))) == [200] * 40  # every web thread holds a connection now
        ended = gateway.sql("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                            "WHERE datname = current_database() AND pid <> pg_backend_pid()")[0][0]
        assert ended >= 2
        assert list(pool.map(post, range(40, 80))) == [200] * 40
    assert gateway.sql("SELECT count(*) FROM webhooks_incomingevent WHERE message_id LIKE 'drop-%'")[0][0] == 80
