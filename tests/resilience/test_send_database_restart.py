"""100 API sends while PostgreSQL restarts twice (issue 20): a send is never answered as a failure after it
reached Avito, and never reaches Avito twice.

Real processes: gunicorn (the production config, 2 workers), a PostgreSQL cluster of the test's own
(stopped for DOWN_SECONDS twice while the sends go on; the machine's shared server is never
touched) and the Avito sandbox, which records every send and answers each DELAY_MS late, so
that some sends are at Avito when the database goes away. Every answer must be 200 (the message
is at Avito exactly once, and stored in our database in the end), 503 `dependency_unavailable`
(nothing at Avito) or 429; never a 500. With an Idempotency-Key on every send, a retry of every
answer with its key, once the database is back, gets 200: the first answer replayed, or for a
503 the one send it now makes; a 409 may only be seen for a moment, never for good.
"""
from __future__ import annotations

import shutil
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.e2e.stack import wait_until
from tests.resilience.processes import AvitoSandbox, Gateway, PostgresCluster

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300),
              pytest.mark.skipif(not shutil.which("runuser"), reason="runuser is needed to run initdb as postgres")]

SENDS = 100
RATE = 10  # sends per second
RESTARTS_AT = (2.0, 6.5)  # seconds after the first send
DOWN_SECONDS = 2.0
DELAY_MS = 200  # the sandbox's answer to every call this late: sends in flight when the database stops
CHATS = 10
SETTLE_SECONDS = 30  # how long a retry may meet 409 "in progress" once the database is back


@pytest.fixture
def stack(tmp_path):
    cluster = PostgresCluster().start()
    sandbox = AvitoSandbox(tmp_path).start()
    gateway = Gateway(tmp_path, standin=sandbox, env={"DATABASE_URL": cluster.url, "RATE_LIMIT_REQUESTS": "1000"})
    try:
        gateway.start(worker=False, beat=False)  # the web process replays its own kept writes
        yield cluster, sandbox, gateway
    finally:
        gateway.stop()
        sandbox.stop()
        cluster.stop()


def sends_during_two_restarts(cluster, gateway, chats: list[str], *, keys: bool) -> dict[int, requests.Response]:
    answers: dict[int, requests.Response | None] = {}
    lock = threading.Lock()
    started = time.monotonic()

    def send(index: int) -> None:
        time.sleep(max(0.0, started + index / RATE - time.monotonic()))
        headers = {"Idempotency-Key": f"restart-{index}"} if keys else {}
        try:
            response = gateway.api("POST", "/api/messages/send", headers=headers,
                                   json={"chat_id": chats[index % len(chats)], "text": f"send {index}"})
        except requests.RequestException:
            response = None
        with lock:
            answers[index] = response

    def restarts() -> None:
        for at in RESTARTS_AT:
            time.sleep(max(0.0, started + at - time.monotonic()))
            cluster.restart(down_for=DOWN_SECONDS)

    with ThreadPoolExecutor(12) as pool:
        restarting = pool.submit(restarts)
        list(pool.map(send, range(SENDS)))
        restarting.result()
    assert all(answers[index] is not None for index in range(SENDS)), "a send got no answer at all"
    return answers


def at_avito(sandbox, chats: list[str]) -> Counter:
    """How many times each text reached Avito, and under which message id."""
    return Counter((message["content"]["text"], message["id"]) for chat in chats for message in sandbox.outgoing(chat))


def texts_at_avito(sandbox, chats: list[str]) -> Counter:
    return Counter(text for text, _ in at_avito(sandbox, chats).elements())


def gateway_log(gateway) -> str:
    return gateway.log("web")


@pytest.mark.parametrize("keys", [False, True], ids=["no-key", "idempotency-key"])
def test_sends_during_two_database_restarts_are_sent_once_and_never_answered_500(stack, keys):
    cluster, sandbox, gateway = stack
    sandbox.configure(delay_ms=DELAY_MS)
    chats = [sandbox.chat_create() for _ in range(CHATS)]
    answers = sends_during_two_restarts(cluster, gateway, chats, keys=keys)
    statuses = Counter(response.status_code for response in answers.values())
    log = gateway_log(gateway)
    print(f"\n{SENDS} sends, keys={keys}: answers {dict(statuses)}; writes kept while the database was down: "
          f"{log.count('kept the messenger.sent_message write')} messages, "
          f"{log.count('kept the messenger.idempotency_outcome write')} key outcomes")

    assert set(statuses) <= {200, 503, 429}, {i: r.text for i, r in answers.items() if r.status_code >= 500
                                              and r.status_code != 503}
    assert statuses[503] >= 1  # the outages were met (the test is about them)
    for response in answers.values():
        if response.status_code == 503:
            assert response.json()["error"]["code"] == "dependency_unavailable"
    sent = {index: response.json() for index, response in answers.items() if response.status_code == 200}
    for body in sent.values():
        assert set(body) == {"ok", "chat_id", "message_id", "message"} and body["ok"] is True
    reached = texts_at_avito(sandbox, chats)
    for index in range(SENDS):
        expected = 1 if index in sent else 0  # 200: at Avito exactly once; 503 or 429: not at all
        assert reached[f"send {index}"] == expected, (index, answers[index].status_code, answers[index].text)
    ids = at_avito(sandbox, chats)
    assert all((f"send {index}", body["message_id"]) in ids for index, body in sent.items())

    # Every message answered 200 is stored in the end, those kept on disk too.
    wanted = {body["message_id"] for body in sent.values()}
    try:
        wait_until(lambda: wanted <= {row[0] for row in cluster.sql("SELECT id FROM messenger_message")}, 60,
                   "every sent message stored", interval=0.5)
    except TimeoutError:
        print(gateway.logs())
        raise
    wait_until(lambda: not list((gateway.workdir / "data" / "pending-writes").glob("*.json")), 30,
               "no kept write left")

    if not keys:
        return
    # A retry of every answer with its key: the first answer replayed, or (503/429) sent now, once.
    conflicts = 0
    for index in range(SENDS):
        deadline = time.monotonic() + SETTLE_SECONDS
        while True:
            retry = gateway.api("POST", "/api/messages/send", headers={"Idempotency-Key": f"restart-{index}"},
                                json={"chat_id": chats[index % len(chats)], "text": f"send {index}"})
            if retry.status_code != 409 or time.monotonic() > deadline:
                break
            conflicts += 1
            time.sleep(0.5)
        assert retry.status_code == 200, (index, answers[index].status_code, retry.status_code, retry.text)
        if index in sent:
            assert retry.headers.get("Idempotent-Replayed") == "true"
            assert retry.json()["message_id"] == sent[index]["message_id"]
    print(f"retries that met 409 for a moment: {conflicts}")
    assert texts_at_avito(sandbox, chats) == Counter({f"send {index}": 1 for index in range(SENDS)})
    rows = cluster.sql("SELECT count(*) FROM messenger_idempotencyrecord WHERE status_code IS NULL")
    assert rows == [(0,)]  # every key settled
