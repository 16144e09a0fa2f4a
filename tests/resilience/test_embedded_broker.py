"""The embedded broker (no Redis): kombu's SQLAlchemy transport over SQLite, safe across processes.

kombu's filesystem transport, the earlier default, killed the worker during a burst of
webhooks (a reader took a message file its writer had not filled: celery/kombu#1551).
Here two gunicorn workers, a Celery worker and beat share the SQLite broker while 16
senders post 600 notifications: the worker must stay up and every event must reach n8n
exactly once. A bad row in the broker must not stop a worker either.
"""
from __future__ import annotations

import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from kombu import Connection

from avitogw import celery  # noqa: F401 (registers the sqla transport of core/broker.py)
from tests.e2e.stack import wait_until
from tests.resilience.processes import Gateway
from tests.webhooks.avito_payloads import notification
from tests.webhooks.standin import StandIn

NOTIFICATIONS = 600
SENDERS = 16
CHATS = [f"u2i-broker{index:03d}" for index in range(20)]


def test_a_bad_message_is_dropped_and_the_next_one_arrives(tmp_path):
    url = f"sqla+sqlite:///{tmp_path / 'broker' / 'broker.sqlite3'}"
    with Connection(url) as connection:
        queue = connection.SimpleQueue("wakeups")
        queue.put({"n": 1})
        with sqlite3.connect(tmp_path / "broker" / "broker.sqlite3") as db:  # half-written, or garbage
            db.execute("INSERT INTO kombu_message (visible, payload, version, queue_id) "
                       "SELECT 1, '{\"body\": \"ab', 1, id FROM kombu_queue WHERE name = 'wakeups'")
        queue.put({"n": 2})
        first = queue.get(timeout=2)
        second = queue.get(timeout=2)
        assert (first.payload, second.payload) == ({"n": 1}, {"n": 2})
        first.ack(), second.ack()
        queue.close()
    with sqlite3.connect(tmp_path / "broker" / "broker.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM kombu_message").fetchone() == (0,)  # taken rows do not pile up


@pytest.mark.e2e
@pytest.mark.timeout(240)
def test_600_notifications_from_16_senders_each_reach_n8n_once(tmp_path):
    standin = StandIn().start()
    gateway = Gateway(tmp_path, standin=standin, env={})
    try:
        gateway.start()
        bodies = [notification(message_id=f"brk-{index:04d}", chat_id=CHATS[index % len(CHATS)],
                               content={"text": f"Сообщение {index}"}) for index in range(NOTIFICATIONS)]
        started = time.monotonic()
        with ThreadPoolExecutor(SENDERS) as pool:
            statuses = list(pool.map(lambda body: gateway.post_notification(body).status_code, bodies))
        posted = time.monotonic() - started
        assert statuses == [200] * NOTIFICATIONS

        expected = {f"avito-msg-brk-{index:04d}" for index in range(NOTIFICATIONS)}
        try:
            wait_until(lambda: expected <= set(standin.delivered_ids()), 150, "every event in n8n", interval=0.5)
        except TimeoutError:
            print(gateway.logs())
            raise
        drained = time.monotonic() - started
        time.sleep(2)  # anything delivered twice would arrive now
        delivered = standin.delivered_ids()
        assert sorted(delivered) == sorted(expected)  # each once
        assert gateway.alive("worker"), gateway.logs()
        worker_log = gateway.log("worker")
        assert "Unrecoverable error" not in worker_log
        assert "Traceback" not in worker_log, worker_log[-3000:]
        print(f"\n{NOTIFICATIONS} notifications from {SENDERS} senders posted in {posted:.1f} s; "
              f"all in n8n after {drained:.1f} s")
    finally:
        gateway.stop()
        standin.stop()
