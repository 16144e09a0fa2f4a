"""PostgreSQL restarted (`pg_ctl restart -m fast`) while notifications arrive at ~20/s.

Real processes: gunicorn (2 workers), a Celery worker and beat, on a PostgreSQL cluster
of the test's own (initdb into a temporary folder, its own port; the machine's shared
server is never touched) and the embedded broker. Every notification answered 200 must
reach n8n, and no message may reach it under two webhook-ids. A notification that could
not be stored is answered 503 (never 500).
"""
from __future__ import annotations

import json
import shutil
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.e2e.stack import wait_until
from tests.resilience.processes import Gateway, PostgresCluster
from tests.webhooks.avito_payloads import notification
from tests.webhooks.standin import StandIn

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300),
              pytest.mark.skipif(not shutil.which("runuser"), reason="runuser is needed to run initdb as postgres")]

RATE = 20  # notifications per second
SECONDS = 12
RESTART_AT = 4.0
CHATS = [f"u2i-pgrestart{index:02d}" for index in range(10)]


@pytest.fixture
def cluster():
    server = PostgresCluster().start()
    yield server
    server.stop()


def test_a_database_restart_mid_traffic_loses_nothing_and_duplicates_nothing(tmp_path, cluster):
    standin = StandIn().start()
    gateway = Gateway(tmp_path, standin=standin, env={"DATABASE_URL": cluster.url})
    answers: dict[str, int] = {}
    lock = threading.Lock()
    try:
        gateway.start()
        started = time.monotonic()

        def post(index: int) -> None:
            time.sleep(max(0.0, started + index / RATE - time.monotonic()))  # paced, ~RATE per second
            message_id = f"pg-{index:04d}"
            body = notification(message_id=message_id, chat_id=CHATS[index % len(CHATS)],
                                content={"text": f"Сообщение {index}"})
            try:
                status = gateway.post_notification(body).status_code
            except Exception:  # noqa: BLE001 - no answer at all counts as not accepted
                status = 0
            with lock:
                answers[message_id] = status

        def restart() -> float:
            time.sleep(RESTART_AT)
            began = time.monotonic()
            cluster.restart()
            return time.monotonic() - began

        with ThreadPoolExecutor(16) as pool:
            restarting = pool.submit(restart)
            list(pool.map(post, range(RATE * SECONDS)))
            restart_seconds = restarting.result()

        accepted = {f"avito-msg-{message_id}" for message_id, status in answers.items() if status == 200}
        try:
            wait_until(lambda: accepted <= set(standin.delivered_ids()), 90, "every accepted event in n8n",
                       interval=0.5)
        except TimeoutError:
            print(gateway.logs())
            raise
        time.sleep(2)  # a second delivery would arrive now

        refused = sorted(message_id for message_id, status in answers.items() if status != 200)
        ids_by_message = defaultdict(set)
        for item in standin.delivered:
            ids_by_message[json.loads(item.body)["meta"]["external_message_id"]].add(item.webhook_id)
        delivered = standin.delivered_ids()
        print(f"\n{len(answers)} notifications at {RATE}/s; PostgreSQL restart took {restart_seconds:.1f} s; "
              f"answered 200: {len(accepted)}, not accepted: {len(refused)} "
              f"({sorted(set(answers[m] for m in refused))}); deliveries: {len(delivered)} "
              f"({len(delivered) - len(set(delivered))} repeats with the same webhook-id); tasks run again on a "
              f"new connection: {gateway.log('worker').count('running it again on a new one')}")
        assert {status for status in answers.values()} <= {200, 503}  # never a 500
        # Refused only while the database was down for longer than the webhook's 1.5 s of retries.
        assert len(refused) <= RATE * max(0.0, restart_seconds - 1.0) + 3
        assert accepted <= set(delivered)  # nothing answered 200 is lost
        assert set(delivered) <= accepted  # nothing refused was delivered behind Avito's back
        assert all(len(ids) == 1 for ids in ids_by_message.values())  # never under a new webhook-id
        assert gateway.alive("worker")
        worker_log = gateway.log("worker")
        # Tasks met the restart on a checked connection or ran again on a new one; none failed with it.
        assert "raised unexpected: OperationalError" not in worker_log
        assert "raised unexpected: InterfaceError" not in worker_log
    finally:
        gateway.stop()
        standin.stop()
