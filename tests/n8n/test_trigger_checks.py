"""The n8n trigger's own checks, run by Node.js from the built package: it accepts exactly what the gateway signs.

Fast (no n8n): the gateway's signer (core/n8n/signing.py) signs, the package's compiled
verifySignature judges. Needs the package built (`npm ci && npm run build`); rebuilt here when
a source is newer than dist/.
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
