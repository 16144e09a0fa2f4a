"""The n8n trigger's own checks, run by Node.js from the built package: it accepts exactly what the gateway signs.

Fast (no n8n): the gateway's signer (core/n8n/signing.py) signs, the package's compiled
verifySignature judges; the trigger's webhook and activation methods run with stand-ins for
n8n's context (trigger_signature.mjs): only messages start the workflow (a bulk callback is
acknowledged; an account's state change only when asked for), messages of chats in human hands and
of accounts not listed are acknowledged and start nothing, a signed request sent again starts
nothing, and a credential without a signing secret is reported when the workflow is activated.
Needs the package built (`npm ci && npm run build`); rebuilt here when a source is newer than dist/.
"""
from __future__ import annotations

import json
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from core.n8n.signing import signed_headers
from tests.n8n.package import build_reason, ensure_built

pytestmark = pytest.mark.skipif(build_reason() is not None, reason=str(build_reason()))
HARNESS = Path(__file__).with_name("trigger_signature.mjs")
NOW = datetime(2025, 12, 1, 17, 30, tzinfo=timezone.utc)
BODY = json.dumps({"event_id": "avito-msg-1", "text": "Привет, ещё продаёте?"}, ensure_ascii=False)
WHSEC = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


@pytest.fixture(scope="module")
def dist():
    return ensure_built()


def judge(dist: Path, cases: list[dict]) -> list[dict]:
    completed = subprocess.run(["node", str(HARNESS), str(dist)], input=json.dumps(cases), capture_output=True,
                               text=True, timeout=60, check=True)
    return json.loads(completed.stdout)


def case(secret: str, headers: dict, body: str = BODY, now: datetime = NOW) -> dict:
    return {"secret": secret, "headers": headers, "body": body, "now": int(now.timestamp())}


def signed(secret: str, at: datetime = NOW, body: str = BODY) -> dict:
    return signed_headers(msg_id="avito-msg-1", payload=body.encode(), secret=secret, timestamp=at)


@pytest.mark.parametrize("secret", [WHSEC, "пароль n8n", "whsec_" + "A" * 43 + "="])
def test_accepts_what_the_gateway_signs(dist, secret):
    assert judge(dist, [case(secret, signed(secret))]) == [{"ok": True}]


def test_the_specifications_test_vector(dist):
    headers = {"webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek", "webhook-timestamp": "1614265330",
               "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="}
    verdicts = judge(dist, [{"secret": WHSEC, "headers": headers, "body": '{"test": 2432232314}', "now": 1614265330}])
    assert verdicts == [{"ok": True}]


def test_refuses_forged_tampered_unsigned_and_badly_keyed(dist):
    good = signed(WHSEC)
    verdicts = judge(dist, [
        case(WHSEC, good, body=BODY.replace("Привет", "Пока")),
        case("whsec_" + "B" * 43 + "=", good),
        case(WHSEC, {**good, "webhook-signature": "v1," + "A" * 44}),
        case(WHSEC, {**good, "webhook-signature": good["webhook-signature"].replace("v1,", "v2,")}),
        case(WHSEC, {k: v for k, v in good.items() if k != "webhook-signature"}),
        case(WHSEC, {**good, "webhook-id": "avito-msg-2"}),
        case("whsec_not*base64", good),
    ])
    assert [v["ok"] for v in verdicts] == [False] * 7
    assert "Missing" in verdicts[4]["reason"] and "secret" in verdicts[6]["reason"]


def test_refuses_stale_and_future_timestamps_beyond_five_minutes(dist):
    verdicts = judge(dist, [
        case(WHSEC, signed(WHSEC, at=NOW - timedelta(minutes=4, seconds=59))),
        case(WHSEC, signed(WHSEC, at=NOW - timedelta(minutes=5, seconds=1))),
        case(WHSEC, signed(WHSEC, at=NOW + timedelta(minutes=5, seconds=1))),
    ])
    assert [v["ok"] for v in verdicts] == [True, False, False]
    assert "five minutes" in verdicts[1]["reason"]


def test_one_matching_signature_among_several_is_enough(dist):
    good = signed(WHSEC)
    rotated = {**good, "webhook-signature": f"v1,{'A' * 44} {good['webhook-signature']}"}
    assert judge(dist, [case(WHSEC, rotated)]) == [{"ok": True}]


def test_filters_drop_own_messages_and_unwanted_chat_types(dist):
    def message(direction: str, chat_type: str) -> dict:
        return {"meta": {"direction": direction, "chat_type": chat_type}}

    cases = [
        {"filter": True, "message": message("in", "u2i"), "options": {}},
        {"filter": True, "message": message("out", "u2i"), "options": {}},
        {"filter": True, "message": message("out", "u2i"), "options": {"ignoreOwn": False}},
        {"filter": True, "message": message("in", "u2u"), "options": {"chatTypes": ["u2i"]}},
        {"filter": True, "message": message("in", "u2i"), "options": {"ignoreOwn": False, "directions": ["out"]}},
    ]
    assert [v["ignored"] for v in judge(dist, cases)] == [None, "own message", None, "chat type u2u", "direction in"]


# --- the trigger's webhook and activation, as n8n runs them ------------------------------------------
MESSAGE = {"event": "message", "channel": "avito", "event_id": "avito-msg-1", "text": "Здравствуйте",
           "meta": {"direction": "in", "chat_type": "u2i"}}
BULK_CALLBACK = {"event": "bulk_job.finished", "job_id": "5b0c", "status": "completed", "total": 1, "sent": 1}


def delivery(body: dict, *, msg_id: str = "avito-msg-1", secret: str | None = WHSEC, at: datetime | None = None,
             **extra) -> dict:
    raw = json.dumps(body, ensure_ascii=False)
    headers = signed_headers(msg_id=msg_id, payload=raw.encode(), secret=secret,
                             timestamp=at or datetime.now(timezone.utc))
    return {"webhook": True, "secret": secret or "", "headers": headers, "body": raw, **extra}


def test_only_messages_start_the_workflow_and_a_bulk_callback_is_acknowledged(dist):
    old_gateway = {k: v for k, v in MESSAGE.items() if k != "event"}
    verdicts = judge(dist, [delivery(BULK_CALLBACK, msg_id="bulk_5b0c"), delivery(MESSAGE, msg_id="m-1"),
                            delivery(old_gateway, msg_id="m-2"), delivery({**MESSAGE, "event": ["message"]}, msg_id="m-3")])
    assert [v["ran"] for v in verdicts] == [False, True, True, False]
    assert verdicts[0] == {"ran": False, "status": 200, "answer": {"ok": True, "ignored": "event bulk_job.finished"}}
    assert verdicts[1]["items"] == [MESSAGE]


def test_a_signed_delivery_sent_again_starts_nothing(dist):
    """A captured request replayed within the five minutes its signature is valid: acknowledged, not run. The
    gateway's own retries and replays sign anew (a new timestamp) and run; so does another trigger's copy."""
    first = delivery(MESSAGE, msg_id="avito-msg-replayed")
    retried = delivery(MESSAGE, msg_id="avito-msg-replayed", at=datetime.now(timezone.utc) - timedelta(seconds=30))
    verdicts = judge(dist, [first, first, {**first, "node": "another-trigger"}, retried, first])
    assert [v["ran"] for v in verdicts] == [True, False, True, True, False]
    assert verdicts[1] == {"ran": False, "status": 200,
                           "answer": {"ok": True, "ignored": "repeat of webhook-id avito-msg-replayed"}}


def test_an_unsigned_delivery_sent_again_starts_nothing_either(dist):
    unsigned = delivery(MESSAGE, msg_id="avito-msg-unsigned", secret=None)
    assert [v["ran"] for v in judge(dist, [unsigned, unsigned])] == [True, False]


def test_a_refused_request_is_not_remembered(dist):
    """A forged copy (401) must not block the real delivery that has the same id and timestamp."""
    real = delivery(MESSAGE, msg_id="avito-msg-raced")
    forged = {**real, "body": real["body"].replace("Здравствуйте", "Пока")}
    verdicts = judge(dist, [forged, real])
    assert [(v["status"], v["ran"]) for v in verdicts] == [(401, False), (200, True)]


def test_activation_warns_once_when_the_credential_has_no_signing_secret(dist):
    without, with_secret = judge(dist, [{"activate": True, "secret": ""}, {"activate": True, "secret": WHSEC}])
    assert without["created"] and without["deleted"] and not without["exists"]
    [warning] = without["warnings"]
    assert "no Signing Secret" in warning and "N8N_WEBHOOK_SECRET" in warning
    assert with_secret["warnings"] == []
    [[notice]] = judge(dist, [{"describe": True}])
    assert "Without a Signing Secret" in notice and "anyone who knows this URL" in notice


def test_the_replay_memory_forgets_what_has_expired_and_keeps_to_its_size(dist):
    [expiry, bounded] = judge(dist, [
        {"memory": True, "limit": 10, "steps": [["a", 100, 0], ["a", 100, 99], ["a", 100, 100], ["a", 100, 101]]},
        {"memory": True, "limit": 2, "steps": [["a", 100, 0], ["b", 100, 0], ["c", 100, 0], ["b", 100, 1],
                                               ["a", 100, 1]]},
    ])
    assert expiry == [True, False, False, True]  # remembered up to its expiry, then new again
    assert bounded == [True, True, True, False, True]  # full: the oldest ("a") made room for "c"


# --- accounts and automation (contract §8, §9) -----------------------------------------------------------
ACCOUNT = {"slug": "moscow-shop", "name": "Москва", "user_id": 94235311, "metadata": {"city": "Moscow"}}
ACCOUNT_STATE = {"event": "account.state", "account": ACCOUNT, "state": "failing", "reason": "credentials_refused",
                 "at": "2026-12-08T01:00:00+00:00"}


def with_state(state: str | None, **extra) -> dict:
    message = {**MESSAGE, **extra}
    if state is not None:
        message["automation"] = {"state": state, "until": None}
    return message


def test_the_trigger_options_and_their_defaults(dist):
    [defaults] = judge(dist, [{"describeOptions": True}])
    assert defaults == {"accountStateEvents": False, "accounts": "", "chatTypes": [], "directions": [],
                        "ignoreOwn": True, "skipHumanChats": True}


def test_chats_in_human_hands_are_skipped_unless_asked_for(dist):
    cases = [
        {"filter": True, "message": with_state("human"), "options": {}},
        {"filter": True, "message": with_state("human"), "options": {"skipHumanChats": True}},
        {"filter": True, "message": with_state("human"), "options": {"skipHumanChats": False}},
        {"filter": True, "message": with_state("bot"), "options": {}},
        {"filter": True, "message": with_state(None), "options": {}},  # a gateway from before §9
    ]
    assert [v["ignored"] for v in judge(dist, cases)] == ["chat in human hands"] * 2 + [None] * 3


def test_a_human_chats_message_is_acknowledged_and_a_bot_chats_runs_as_delivered(dist):
    human = with_state("human", account=ACCOUNT)
    bot = {**with_state("bot", account=ACCOUNT), "automation": {"state": "bot", "until": "2026-12-08T03:00:00+00:00"}}
    verdicts = judge(dist, [delivery(human, msg_id="h-1"), delivery(bot, msg_id="b-1"),
                            delivery(human, msg_id="h-2", options={"skipHumanChats": False})])
    assert verdicts[0] == {"ran": False, "status": 200, "answer": {"ok": True, "ignored": "chat in human hands"}}
    assert verdicts[1] == {"ran": True, "status": 200, "items": [bot]}  # account and automation as delivered
    assert verdicts[2] == {"ran": True, "status": 200, "items": [human]}


@pytest.mark.parametrize("accounts", ["moscow-shop, spb", " spb ,moscow-shop ", ["spb", "moscow-shop"]])
def test_the_account_filter_lets_listed_accounts_through(dist, accounts):
    def message(slug: str | None) -> dict:
        return {**MESSAGE, **({"account": {**ACCOUNT, "slug": slug}} if slug else {})}

    options = {"accounts": accounts}
    cases = [{"filter": True, "message": message(slug), "options": options} for slug in ("moscow-shop", "spb", "kazan")]
    cases.append({"filter": True, "message": message(None), "options": options})  # a gateway without accounts
    assert [v["ignored"] for v in judge(dist, cases)] == [None, None, "account kazan", "no account"]


def test_without_an_account_filter_every_message_runs(dist):
    cases = [{"filter": True, "message": {**MESSAGE, "account": ACCOUNT}, "options": {"accounts": ""}},
             {"filter": True, "message": MESSAGE, "options": {"accounts": " , "}},
             {"filter": True, "message": MESSAGE, "options": {}}]
    assert [v["ignored"] for v in judge(dist, cases)] == [None, None, None]


def test_a_message_of_another_account_is_acknowledged_over_the_webhook(dist):
    verdicts = judge(dist, [delivery({**MESSAGE, "account": ACCOUNT}, msg_id="a-1", options={"accounts": "spb"}),
                            delivery(MESSAGE, msg_id="a-2", options={"accounts": "spb"}),
                            delivery({**MESSAGE, "account": ACCOUNT}, msg_id="a-3",
                                     options={"accounts": "moscow-shop"})])
    assert [v.get("answer") for v in verdicts[:2]] == [{"ok": True, "ignored": "account moscow-shop"},
                                                      {"ok": True, "ignored": "no account"}]
    assert verdicts[2]["ran"] and verdicts[2]["items"] == [{**MESSAGE, "account": ACCOUNT}]


def test_account_state_events_run_only_when_asked_for_and_only_for_listed_accounts(dist):
    verdicts = judge(dist, [
        delivery(ACCOUNT_STATE, msg_id="s-1"),
        delivery(ACCOUNT_STATE, msg_id="s-2", options={"accountStateEvents": True}),
        # the message rules (directions, chat types, human hands) do not apply to a state change
        delivery(ACCOUNT_STATE, msg_id="s-3", options={"accountStateEvents": True, "directions": ["in"],
                                                       "chatTypes": ["u2i"], "accounts": "moscow-shop"}),
        delivery(ACCOUNT_STATE, msg_id="s-4", options={"accountStateEvents": True, "accounts": "spb"}),
        delivery(BULK_CALLBACK, msg_id="s-5", options={"accountStateEvents": True}),
    ])
    assert verdicts[0] == {"ran": False, "status": 200, "answer": {"ok": True, "ignored": "event account.state"}}
    assert verdicts[1] == {"ran": True, "status": 200, "items": [ACCOUNT_STATE]}
    assert verdicts[2] == {"ran": True, "status": 200, "items": [ACCOUNT_STATE]}
    assert verdicts[3] == {"ran": False, "status": 200, "answer": {"ok": True, "ignored": "account moscow-shop"}}
    assert verdicts[4]["answer"] == {"ok": True, "ignored": "event bulk_job.finished"}
