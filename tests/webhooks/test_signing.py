"""Standard Webhooks signatures: the specification's published test vector, both secret forms."""
from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timedelta, timezone

import pytest
from standardwebhooks import Webhook

from core.n8n.signing import SigningSecretInvalid, signed_headers

# The test vector published with the Standard Webhooks specification and its reference libraries.
VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TIMESTAMP = datetime.fromtimestamp(1614265330, tz=timezone.utc)
VECTOR_BODY = b'{"test": 2432232314}'
VECTOR_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_the_specification_test_vector():
    headers = signed_headers(msg_id=VECTOR_ID, payload=VECTOR_BODY, secret=VECTOR_SECRET,
                             timestamp=VECTOR_TIMESTAMP)
    assert headers == {"webhook-id": VECTOR_ID, "webhook-timestamp": "1614265330",
                       "webhook-signature": VECTOR_SIGNATURE}


def test_a_timestamp_in_another_zone_is_the_same_instant():
    moscow = VECTOR_TIMESTAMP.astimezone(timezone(timedelta(hours=3)))
    headers = signed_headers(msg_id=VECTOR_ID, payload=VECTOR_BODY, secret=VECTOR_SECRET, timestamp=moscow)
    assert headers["webhook-signature"] == VECTOR_SIGNATURE


def test_without_a_secret_there_is_no_signature():
    headers = signed_headers(msg_id="avito-msg-1", payload=b"{}", secret=None, timestamp=VECTOR_TIMESTAMP)
    assert headers == {"webhook-id": "avito-msg-1", "webhook-timestamp": "1614265330"}


def test_a_receiver_library_verifies_what_we_sign_now():
    body = '{"channel":"avito","text":"Привет"}'.encode()
    headers = signed_headers(msg_id="avito-msg-2", payload=body, secret=VECTOR_SECRET)
    assert Webhook(VECTOR_SECRET).verify(body, headers) == {"channel": "avito", "text": "Привет"}


def test_a_raw_secret_is_used_as_its_utf8_bytes():
    body = b'{"a":1}'
    headers = signed_headers(msg_id="id-1", payload=body, secret="пароль-n8n", timestamp=VECTOR_TIMESTAMP)
    expected = hmac.new("пароль-n8n".encode(), b"id-1.1614265330." + body, hashlib.sha256).digest()
    assert headers["webhook-signature"] == "v1," + base64.b64encode(expected).decode()


def test_a_receiver_library_keyed_with_the_raw_bytes_verifies_it():
    body = b'{"a":1}'
    headers = signed_headers(msg_id="id-2", payload=body, secret="пароль-n8n")
    assert Webhook("пароль-n8n".encode()).verify(body, headers) == {"a": 1}


@pytest.mark.parametrize("secret", ["whsec_!!!not-base64", "whsec_", "whsec_a"])
def test_an_unusable_whsec_secret_is_refused(secret):
    with pytest.raises(SigningSecretInvalid):
        signed_headers(msg_id="id", payload=b"{}", secret=secret)
