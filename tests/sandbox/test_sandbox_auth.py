"""The token endpoint and the checks every API call passes: bearer token, expiry, account id."""

from sandbox_testkit import ACCOUNT_ID, WsgiClient, account_path

CHATS = account_path("/chats", version="v2")
FORM = {"grant_type": "client_credentials", "client_id": "id", "client_secret": "secret"}


def test_token_is_issued_for_any_credentials_on_both_paths(app):
    client = WsgiClient(app)
    for path in ("/token", "/token/"):
        answer = client.request("POST", path, data=FORM, auth=False)
        assert answer.status == 200
        body = answer.json()
        assert body["expires_in"] == 86400 and body["token_type"] == "Bearer"
        assert len(body["access_token"]) >= 20
    assert client.get("/_sandbox/stats").json()["token_requests"] == 2


def test_token_wants_a_form_body_with_every_field(app):
    client = WsgiClient(app)
    as_json = client.post("/token", FORM, auth=False)
    assert as_json.status == 400 and as_json.json()["error"] == "invalid_request"
    missing = client.request("POST", "/token", data={"grant_type": "client_credentials"}, auth=False)
    assert missing.status == 400
    assert missing.json()["error"] == "invalid_request"
    assert "client_id" in missing.json()["error_description"]
    other_grant = client.request("POST", "/token", data={**FORM, "grant_type": "password"}, auth=False)
    assert other_grant.json()["error"] == "unsupported_grant_type"
    assert client.get("/token").status == 405


def test_configured_credentials_are_enforced(make_app):
    client = WsgiClient(make_app(client_id="gw", client_secret="s3cret"))
    wrong = client.request("POST", "/token", data={**FORM, "client_id": "gw", "client_secret": "nope"}, auth=False)
    assert wrong.status == 400
    assert wrong.json()["error"] == "invalid_client" and wrong.json()["error_description"]
    assert client.login(client_id="gw", client_secret="s3cret")


def test_api_calls_need_a_known_bearer_token(app):
    client = WsgiClient(app)
    missing = client.get(CHATS)
    assert missing.status == 401
    assert missing.json()["error"]["code"] == 401
    client.token = "made-up-token"
    assert client.get(CHATS).status == 401
    client.login()
    assert client.get(CHATS).status == 200


def test_an_expired_token_gets_403_and_a_new_one_works(client, clock):
    clock.advance(86400)
    expired = client.get(CHATS)
    assert expired.status == 403
    assert expired.json()["error"]["code"] == 403 and "expired" in expired.json()["error"]["message"]
    client.login()
    assert client.get(CHATS).status == 200


def test_expire_tokens_hook_expires_every_token_now(client):
    answer = client.post("/_sandbox/config", {"expire_tokens": True})
    assert answer.json()["tokens_expired"] == 1
    assert client.get(CHATS).status == 403


def test_token_ttl_is_configurable(make_app, clock):
    client = WsgiClient(make_app(token_ttl=60))
    assert client.request("POST", "/token", data=FORM, auth=False).json()["expires_in"] == 60
    client.login()
    clock.advance(61)
    assert client.get(CHATS).status == 403


def test_another_account_in_the_path_is_forbidden(client):
    other = client.get(account_path("/chats", user_id=ACCOUNT_ID + 1, version="v2"))
    assert other.status == 403 and other.json()["error"]["code"] == 403
    garbage = client.get("/messenger/v2/accounts/abc/chats")
    assert garbage.status == 400 and "user_id" in garbage.json()["error"]["fields"]


def test_account_id_is_configurable(make_app):
    client = WsgiClient(make_app(user_id=987654321))
    client.login()
    assert client.get("/messenger/v2/accounts/987654321/chats").status == 200
    assert client.get(account_path("/chats", version="v2")).status == 403
