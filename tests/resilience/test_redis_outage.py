"""Redis killed for a while under a running gateway, then started again: nothing needs a restart.

Real processes (gunicorn with 2 workers, a Celery worker and beat) on PostgreSQL and a
redis-server of the test's own (the token, the call limit, the doorbell and the broker),
killed and started again on the same port; the machine's shared Redis is never touched.
During the outage the webhook still stores (200) and API sends still work, their token and
call limit in the database. Once Redis is back, the sends use it again and every event
stored meanwhile reaches n8n (the broker was Redis: they wait for its return and the sweep).
"""
from __future__ import annotations

import json
import time
import uuid

import psycopg
import pytest
import redis

from tests.e2e.stack import wait_until
from tests.resilience.processes import ACCOUNT, Gateway, RedisServer
from tests.webhooks.avito_payloads import notification
from tests.webhooks.standin import StandIn

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.timeout(240)]

PG_ADMIN = "postgresql://root@127.0.0.1:5432/postgres"
SEND_PATH = f"/messenger/v1/accounts/{ACCOUNT}/chats/u2i-outage/messages"


class AvitoWithSends(StandIn):
    """The webhook stand-in (token, chats, n8n) that also accepts text sends."""

    def __init__(self):
        super().__init__()
        self.sends: list[str] = []

    def _handler(self):
        base, standin = super()._handler(), self

        class Handler(base):
            def do_POST(self):  # noqa: N802
                if self.path != SEND_PATH:
                    return super().do_POST()
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                with standin.lock:
                    standin.sends.append(body["message"]["text"])
                    number = len(standin.sends)
                return self._answer(200, {"id": f"sent-{number}", "type": "text", "created": int(time.time()),
                                          "content": {"text": body["message"]["text"]}, "direction": "out"})

        return Handler


@pytest.fixture
def database():
    name = f"avitogw_redis_outage_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"postgres://root@127.0.0.1:5432/{name}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_sends_and_webhooks_go_on_while_redis_is_down_and_redis_is_used_again(tmp_path, database):
    own_redis = RedisServer(tmp_path).start()
    avito = AvitoWithSends().start()
    gateway = Gateway(tmp_path, standin=avito, env={"DATABASE_URL": database, "REDIS_URL": own_redis.url})
    store = redis.Redis.from_url(own_redis.url)

    def send(text: str):
        return gateway.api("POST", "/api/messages/send", json={"chat_id": "u2i-outage", "text": text})

    def webhook(index: int) -> int:
        return gateway.post_notification(notification(message_id=f"ro-{index:03d}", chat_id="u2i-outage",
                                                      content={"text": f"Сообщение {index}"})).status_code

    try:
        gateway.start()
        assert send("до").status_code == 200
        assert [webhook(i) for i in range(5)] == [200] * 5
        assert store.get("avitogw:avito:token")  # Redis holds the token

        own_redis.kill()
        during = [send(f"во время {i}") for i in range(3)]
        assert [r.status_code for r in during] == [200] * 3, [r.text for r in during]
        assert [webhook(i) for i in range(5, 20)] == [200] * 15  # still stored
        health = gateway.api("GET", "/health").json()
        assert health["status"] == "degraded" and health["checks"]["redis"].startswith("error: ")
        assert str(own_redis.port) not in json.dumps(health)
        with psycopg.connect(database.replace("postgres://", "postgresql://")) as conn:
            assert conn.execute("SELECT count(*) FROM messenger_avitotoken WHERE access_token <> ''").fetchone() == (1,)

        own_redis.start()  # the same port, empty
        returned = time.monotonic()
        time.sleep(6)  # past the 5 s a process stays on the database before trying Redis again
        assert send("после").status_code == 200
        assert store.get("avitogw:avito:token")  # fetched again, into Redis
        assert store.zcard("avitogw:avito:ratelimit") >= 1  # and the calls counted there

        expected = {f"avito-msg-ro-{index:03d}" for index in range(20)}
        try:
            wait_until(lambda: expected <= set(avito.delivered_ids()), 60, "every event in n8n", interval=0.5)
        except TimeoutError:
            print(gateway.logs())
            raise
        print(f"\nall 20 events in n8n {time.monotonic() - returned:.1f} s after Redis returned; "
              f"sends: {avito.sends}")
        assert avito.sends == ["до", "во время 0", "во время 1", "во время 2", "после"]  # each once
        assert gateway.alive("worker") and gateway.alive("web")
    finally:
        gateway.stop()
        avito.stop()
        own_redis.kill()
