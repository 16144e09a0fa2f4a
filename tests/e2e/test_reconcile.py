"""Reconciliation with real processes: what reaches n8n when Avito's notification does not.

A stack with RECONCILE_INTERVAL=2 (both flavours), the sandbox playing an Avito that
forgets notifications (`"notify": false`, `drop_notifications`), a gateway that is down
or answers 500; every check counts what the n8n stand-in received. A second, small stack
runs with RECONCILE_INTERVAL=0 and the command by hand.
"""
from __future__ import annotations

import random
import sqlite3
import subprocess
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.e2e.n8n_standin import N8nStandIn
from tests.e2e.stack import PYTHON, ROOT, SANDBOX_ACCOUNT, Stack, wait_until

pytestmark = pytest.mark.e2e
INTERVAL = 2
DELIVERED_WITHIN = 40  # seconds: two intervals, the processing, and a slow shared machine's margin


@pytest.fixture(scope="module", params=["postgres", "sqlite"])
def reconciling(request, tmp_path_factory):
    """The stack, started as at installation: a customer wrote just before the first reconciliation."""
    n8n = N8nStandIn().start()
    # Avito (the sandbox) answers 429 past the same limit the gateway keeps to: it must never have to.
    stack = Stack(tmp_path_factory.mktemp(f"reconcile-{request.param}"), flavour=request.param, n8n_url=n8n.url,
                  extra_env={"RECONCILE_INTERVAL": str(INTERVAL), "RATE_LIMIT_REQUESTS": "300"},
                  sandbox_args=("--rate", "300/60"))
    stack.start(beat=False)
    try:
        api(stack, "POST", "/api/webhook/subscribe", json={})
        chat_id = some_chat(stack)
        history = write(stack, chat_id, "Написано до установки", notify=False)
        stack.start_beat()
        # Installed once the first run has set the watermark: what is written before that is history
        # (a test run alone, that kills the stack at once, would otherwise write "history").
        wait_until(lambda: any(run["outcome"] == "started" for run in runs(stack)), DELIVERED_WITHIN, "the first run")
        yield n8n, stack, history
    finally:
        stack.stop()
        n8n.stop()


@pytest.fixture
def n8n(reconciling):
    return reconciling[0]


@pytest.fixture
def stack(reconciling):
    return reconciling[1]


def api(stack, method: str, path: str, **kwargs) -> requests.Response:
    return requests.request(method, stack.base_url + path, headers=stack.headers, timeout=30, **kwargs)


def some_chat(stack, index: int = 0) -> str:
    answer = api(stack, "GET", "/api/chats", params={"limit": 10})
    assert answer.status_code == 200, answer.text
    return answer.json()["chats"][index]["id"]


def write(stack, chat_id: str, text: str, *, notify: bool = True) -> dict:
    """A customer writes (the sandbox's control hook); with notify=False Avito "forgets" to say so."""
    answer = requests.post(f"{stack.sandbox_url}/_sandbox/messages",
                           json={"chat_id": chat_id, "text": f"{text} {uuid.uuid4().hex[:6]}", "notify": notify},
                           timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()["message"]


def received(n8n) -> Counter:
    """How many times n8n got each Avito message id."""
    return Counter(body["meta"]["external_message_id"] for body in n8n.bodies())


def sources(n8n, message_id: str) -> list[str]:
    return [body["meta"]["source"] for body in n8n.bodies() if body["meta"]["external_message_id"] == message_id]


def runs(stack) -> list[dict]:
    return api(stack, "GET", "/api/reconcile/runs", params={"limit": 100}).json()["runs"]


def newest_run_id(stack) -> int:
    return max((run["id"] for run in runs(stack)), default=0)


def two_more_runs(stack) -> None:
    """Wait until two runs that started after now have finished well: a message they could
    have delivered a second time would have been."""
    after = newest_run_id(stack)
    try:
        wait_until(lambda: sum(run["id"] > after and run["outcome"] == "ok" for run in runs(stack)) >= 2,
                   DELIVERED_WITHIN, "two more reconciliation runs")
    except TimeoutError:
        print(runs(stack)[:10])
        raise


def delivered_once(n8n, stack, message_ids: list[str]) -> None:
    wait_until(lambda: all(received(n8n)[mid] for mid in message_ids), DELIVERED_WITHIN,
               f"the delivery of {message_ids}")
    two_more_runs(stack)
    counts = received(n8n)
    assert {mid: counts[mid] for mid in message_ids} == {mid: 1 for mid in message_ids}


def notification_status(stack, message_id: str) -> dict:
    log = requests.get(f"{stack.sandbox_url}/_sandbox/notifications", params={"wait": "1"}, timeout=10).json()
    [entry] = [entry for entry in log["notifications"] if entry["message_id"] == message_id]
    return entry


def test_history_is_not_delivered_on_first_start(n8n, stack, reconciling):
    history = reconciling[2]
    wait_until(lambda: any(run["outcome"] == "started" for run in runs(stack)), DELIVERED_WITHIN, "the first run")
    two_more_runs(stack)
    assert received(n8n)[history["id"]] == 0
    assert not n8n.bodies()  # nor any of the sandbox's seeded history
    idle = [run for run in runs(stack) if run["outcome"] == "ok" and run["chats_seen"] == 0]
    assert idle and all(run["calls"] == 1 for run in idle)  # an idle account: one chats page per run
    health = requests.get(f"{stack.base_url}/health", headers=stack.headers, timeout=10).json()
    assert health["checks"]["reconcile"] == "ok" and health["reconcile"]["last_success_age"] < 3 * INTERVAL


def test_a_notification_avito_never_sent_reaches_n8n_once(n8n, stack):
    lost = write(stack, some_chat(stack), "Avito не прислал уведомление", notify=False)
    delivered_once(n8n, stack, [lost["id"]])
    assert sources(n8n, lost["id"]) == ["poll"]
    runs_that_found = [run for run in runs(stack) if run["messages_found"]]
    assert runs_that_found and runs_that_found[0]["calls"] >= 1  # the chats page (and the chat's, unless spared)


def test_a_webhook_answered_500_is_recovered(n8n, stack):
    refuse_events(stack, True)
    try:
        refused = write(stack, some_chat(stack), "Шлюз ответил 500")
        assert notification_status(stack, refused["id"])["status"] == 500
    finally:
        refuse_events(stack, False)
    delivered_once(n8n, stack, [refused["id"]])
    assert sources(n8n, refused["id"]) == ["poll"]


def test_webhook_and_poll_racing_for_the_same_messages_deliver_once(n8n, stack):
    """Avito's notifications come late, 0 to 2 intervals after the message: some before the poll
    finds the message, some while it does, some after."""
    chats = {chat["id"]: chat for chat in api(stack, "GET", "/api/chats", params={"limit": 3}).json()["chats"]}
    written = [(chat_id, write(stack, chat_id, f"Двумя путями {index}", notify=False))
               for index, chat_id in enumerate(list(chats) * 3)]
    rng = random.Random(7)

    def notify_late(chat_id: str, message: dict) -> int:
        time.sleep(rng.uniform(0, 2 * INTERVAL))
        body = avito_notification(chats[chat_id], message)
        return requests.post(f"{stack.base_url}/webhook/avito/{stack.webhook_secret}", json=body, timeout=10).status_code

    with ThreadPoolExecutor(len(written)) as pool:
        answers = list(pool.map(lambda pair: notify_late(*pair), written))
    assert answers == [200] * len(written)
    delivered_once(n8n, stack, [message["id"] for _, message in written])


def avito_notification(chat: dict, message: dict) -> dict:
    """Avito's v3 notification of a message (avito-api.md §5.4), as the sandbox would have posted it."""
    item = (chat.get("context") or {}).get("value") or {}
    return {"id": str(uuid.uuid4()), "version": "v3.0.0", "timestamp": message["created"],
            "payload": {"type": "message", "value": {
                "id": message["id"], "chat_id": chat["id"], "user_id": SANDBOX_ACCOUNT,
                "author_id": message["author_id"], "created": message["created"], "type": message["type"],
                "chat_type": chat["id"].split("-", 1)[0], "content": message["content"], "item_id": item.get("id"),
                "published_at": "2025-12-01T17:30:00Z", "read": None}}}


def test_own_sends_are_not_delivered(n8n, stack):
    chat_id = some_chat(stack, 1)
    requests.post(f"{stack.sandbox_url}/_sandbox/config", json={"drop_notifications": 1}, timeout=10)
    sent = api(stack, "POST", "/api/messages/send", json={"chat_id": chat_id, "text": "Наш ответ, эхо потеряно"})
    assert sent.status_code == 200, sent.text
    after = write(stack, chat_id, "Ответ клиента", notify=False)
    delivered_once(n8n, stack, [after["id"]])  # the poll has read past our own message
    assert received(n8n)[sent.json()["message_id"]] == 0


def test_messages_written_while_the_gateway_was_down_arrive_once_it_is_back(n8n, stack):
    chat_id = some_chat(stack, 2)
    for name in ("web", "worker", "beat"):
        stack.kill(name)
    written = [write(stack, chat_id, f"Пока шлюз лежал {index}") for index in range(3)]
    assert notification_status(stack, written[0]["id"])["error"]  # Avito could not reach the gateway
    stack.start_web()
    stack.start_worker()
    stack.start_beat()
    delivered_once(n8n, stack, [message["id"] for message in written])
    assert {source for message in written for source in sources(n8n, message["id"])} == {"poll"}


def test_messages_written_while_the_web_process_was_down_arrive_once(n8n, stack):
    chat_id = some_chat(stack, 3)
    stack.kill("web")
    written = [write(stack, chat_id, f"Пока веб лежал {index}") for index in range(2)]
    assert notification_status(stack, written[0]["id"])["error"]
    stack.start_web()
    delivered_once(n8n, stack, [message["id"] for message in written])


def test_avito_never_answered_429(stack):
    stats = requests.get(f"{stack.sandbox_url}/_sandbox/stats", timeout=10).json()
    assert stats["requests"]["getChatsV2"] > 10 and stats["rate_limited"] == 0


def refuse_events(stack, refuse: bool) -> None:
    """Make the gateway's database refuse new incoming events, so the webhook answers 500."""
    if stack.flavour == "postgres":
        import psycopg

        with psycopg.connect(f"postgresql://root@127.0.0.1:5432/{stack.database}", autocommit=True) as conn:
            if refuse:
                conn.execute("CREATE OR REPLACE FUNCTION e2e_refuse() RETURNS trigger AS $$ BEGIN "
                             "RAISE EXCEPTION 'e2e: refused'; END $$ LANGUAGE plpgsql")
                conn.execute("CREATE TRIGGER e2e_refuse BEFORE INSERT ON webhooks_incomingevent "
                             "FOR EACH ROW EXECUTE FUNCTION e2e_refuse()")
            else:
                conn.execute("DROP TRIGGER e2e_refuse ON webhooks_incomingevent")
        return
    conn = sqlite3.connect(stack.workdir / "data" / "avitogw.sqlite3", timeout=30)
    try:
        conn.execute("CREATE TRIGGER e2e_refuse BEFORE INSERT ON webhooks_incomingevent "
                     "BEGIN SELECT RAISE(ABORT, 'e2e: refused'); END" if refuse else "DROP TRIGGER e2e_refuse")
        conn.commit()
    finally:
        conn.close()


# --- RECONCILE_INTERVAL=0, and the command by hand ------------------------------------------------

def test_reconcile_interval_zero_is_off_and_the_command_catches_up(tmp_path):
    n8n = N8nStandIn().start()
    stack = Stack(tmp_path, flavour="sqlite", n8n_url=n8n.url, extra_env={"RECONCILE_INTERVAL": "0"})
    try:
        stack.start()
        api(stack, "POST", "/api/webhook/subscribe", json={})
        lost = write(stack, some_chat(stack), "Никто не заметит", notify=False)
        heard = write(stack, some_chat(stack), "А это с уведомлением")
        wait_until(lambda: received(n8n)[heard["id"]], DELIVERED_WITHIN, "the notified message")
        # Beat is running; with reconciliation off it never looks for the lost one.
        wait_until(lambda: "beat: Starting" in (stack.workdir / "beat.log").read_text(), 60, "beat at work")
        time.sleep(3 * 2)  # three intervals a reconciliation would have run in (2 s in this suite)
        assert runs(stack) == [] and received(n8n)[lost["id"]] == 0
        health = requests.get(f"{stack.base_url}/health", timeout=10).json()
        assert health["checks"]["reconcile"] == "disabled"

        done = subprocess.run([PYTHON, "manage.py", "avito_reconcile", "--hours", "1"], cwd=ROOT, env=stack.env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert "1 message(s) not stored before" in done.stdout  # the notified one is stored already
        wait_until(lambda: received(n8n)[lost["id"]], DELIVERED_WITHIN, "the delivery of the lost message")
        assert received(n8n) == Counter({lost["id"]: 1, heard["id"]: 1})
        assert sources(n8n, lost["id"]) == ["poll"]
    finally:
        stack.stop()
        n8n.stop()
