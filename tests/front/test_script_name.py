"""A client's `SCRIPT_NAME` header never reaches Django through real gunicorn (issue 19, finding 1).

gunicorn takes SCRIPT_NAME from a request header when the peer is a "trusted forwarder" (loopback by
default, anyone with FORWARDED_ALLOW_IPS=*, which a proxy setup often uses). Django then showed the
guard `/x/api/token` while routing `/api/token`: the Avito token without the key. The test client
cannot show this; only gunicorn parses the header.
"""
from __future__ import annotations

import pytest
import requests

from tests.front.processes import gunicorn, outward_address

KEY = "front-door-key-3e81"
SMUGGLED = {"SCRIPT_NAME": "/x"}
GUARDED = ["/x/api/token", "/x/metrics", "/x/api/chats"]


def _assert_not_served(response: requests.Response, refused: int) -> None:
    # Refused by the guard, or (the header dropped) no such path; never the view's answer.
    assert response.status_code in (refused, 404), (response.status_code, response.text[:300])
    assert "access_token" not in response.text


@pytest.mark.timeout(120)
@pytest.mark.parametrize("trust", ["default", "everyone"])
def test_with_an_api_key_the_header_does_not_skip_the_key(tmp_path, trust):
    env = {"API_KEY": KEY, "AVITO_CLIENT_ID": "id", "AVITO_CLIENT_SECRET": "secret", "AVITO_USER_ID": "1234567",
           "AVITO_API_BASE_URL": "http://127.0.0.1:9"}
    if trust == "everyone":  # as behind a proxy configured to be trusted from anywhere
        env["FORWARDED_ALLOW_IPS"] = "*"
    host = outward_address() or "127.0.0.1"
    with gunicorn(tmp_path, host="0.0.0.0", **env) as port:
        for address in {"127.0.0.1", host}:
            for path in GUARDED:
                _assert_not_served(requests.get(f"http://{address}:{port}{path}", headers=SMUGGLED, timeout=10), 401)
            # the header does not break what the key holder does either
            assert requests.get(f"http://{address}:{port}/api/chats", headers={"X-API-Key": "no"},
                                timeout=10).status_code == 401


@pytest.mark.timeout(120)
def test_without_an_api_key_a_caller_from_the_network_cannot_pass_for_a_local_one(tmp_path):
    host = outward_address()
    if host is None:
        pytest.skip("this machine has no address but loopback")
    env = {"FORWARDED_ALLOW_IPS": "*", "AVITO_CLIENT_ID": "id", "AVITO_CLIENT_SECRET": "secret",
           "AVITO_USER_ID": "1234567", "AVITO_API_BASE_URL": "http://127.0.0.1:9"}
    with gunicorn(tmp_path, host="0.0.0.0", **env) as port:
        for path in GUARDED:
            _assert_not_served(requests.get(f"http://{host}:{port}{path}", headers=SMUGGLED, timeout=10), 403)
        assert requests.get(f"http://{host}:{port}/api/token", timeout=10).status_code == 403
