"""The accounts API (contract §8) against a mocked Avito: create, list, read, change, check, pause, delete."""
from __future__ import annotations

import json

import pytest

from accounts.models import Account
from tests.accounts.conftest import B_ID, B_SECRET, B_USER
from tests.conftest import AVITO, USER_ID

pytestmark = pytest.mark.django_db


def create_b(api, **extra):
    return api.post("/api/accounts", {"slug": "shop-b", "client_id": B_ID, "client_secret": B_SECRET, **extra},
                    format="json")


def test_the_environments_account_is_listed_as_default_without_secrets(api):
    answer = api.get("/api/accounts")
    assert answer.status_code == 200
    (default,) = answer.json()["accounts"]
    assert default["slug"] == "default" and default["avito_user_id"] == USER_ID and default["state"] == "active"
    assert "client_secret" not in default and "webhook_secret" not in default
    assert "test-secret" not in answer.content.decode()


def test_a_fresh_install_without_credentials_has_no_default_account(api, settings):
    settings.AVITO_CLIENT_ID = settings.AVITO_CLIENT_SECRET = ""
    settings.AVITO_USER_ID = 0
    assert api.get("/api/accounts").json() == {"accounts": []}
    assert api.get("/api/accounts/default").status_code == 404


def test_create_checks_the_credentials_and_learns_the_user_id_and_name(api, avito_accounts):
    answer = create_b(api, metadata={"city": "Kazan"})
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert body["avito_user_id"] == B_USER and body["name"] == "Shop B" and body["metadata"] == {"city": "Kazan"}
    assert body["state"] == "active" and body["last_ok_at"]
    assert "client_secret" not in body and B_SECRET not in answer.content.decode()
    stored = Account.objects.get(slug="shop-b")
    assert B_SECRET not in stored.client_secret and stored.client_secret_plain() == B_SECRET
    assert len(stored.webhook_secret) >= 32
    assert [call.request.url for call in avito_accounts.mock.calls] == [f"{AVITO}/token",
                                                                       f"{AVITO}/core/v1/accounts/self"]


def test_refused_credentials_answer_400_with_avitos_message_and_save_nothing(api, avito_accounts):
    answer = api.post("/api/accounts", {"slug": "shop-x", "client_id": "nobody", "client_secret": "wrong"},
                      format="json")
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == "credentials_refused" and "invalid client credentials" in error["message"]
    assert not Account.objects.filter(slug="shop-x").exists()


def test_a_slug_or_avito_user_that_exists_is_a_409(api, avito_accounts):
    assert create_b(api).status_code == 201
    again = create_b(api)
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"
    same_user = api.post("/api/accounts", {"slug": "shop-b2", "client_id": B_ID, "client_secret": B_SECRET},
                         format="json")
    assert same_user.status_code == 409 and "avito_user_id" in same_user.json()["error"]["details"]


@pytest.mark.parametrize("body, field", [
    ({"slug": "Shop_B"}, "slug"), ({"slug": "x" * 41}, "slug"), ({"slug": ""}, "slug"),
    ({"slug": "ok", "metadata": [1, 2]}, "metadata"), ({"slug": "ok", "metadata": "text"}, "metadata"),
    ({"slug": "default"}, "slug"), ({"slug": 7}, "slug"), ({"slug": "ok", "colour": "red"}, "colour"),
])
def test_bad_input_is_a_400_naming_the_field(api, avito_accounts, body, field):
    answer = api.post("/api/accounts", {"client_id": B_ID, "client_secret": B_SECRET, **body}, format="json")
    assert answer.status_code == 400
    assert field in answer.json()["error"]["details"]
    assert not avito_accounts.mock.calls  # Avito is not asked about bad input


def test_patch_changes_writable_fields_and_the_secret_stays_write_only(api, avito_accounts):
    create_b(api)
    answer = api.patch("/api/accounts/shop-b", {"name": "Kazan", "client_secret": "rotated-secret",
                                                 "rate_limit_requests": 5}, format="json")
    assert answer.status_code == 200 and answer.json()["name"] == "Kazan"
    assert answer.json()["rate_limit_requests"] == 5 and "client_secret" not in answer.json()
    assert Account.objects.get(slug="shop-b").client_secret_plain() == "rotated-secret"
    assert api.patch("/api/accounts/shop-b", {"metadata": [1]}, format="json").status_code == 400


def test_the_default_accounts_environment_fields_cannot_be_patched_nor_the_account_deleted(api):
    refused = api.patch("/api/accounts/default", {"client_id": "other"}, format="json")
    assert refused.status_code == 400 and "client_id" in refused.json()["error"]["details"]
    assert api.patch("/api/accounts/default", {"metadata": {"brand": "A"}}, format="json").json()["metadata"] == {
        "brand": "A"}
    deleted = api.delete("/api/accounts/default")
    assert deleted.status_code == 409 and deleted.json()["error"]["code"] == "account_from_environment"


def test_check_marks_refused_credentials_failing_and_accepted_ones_active(api, avito_accounts):
    create_b(api)
    avito_accounts.revoked.add(B_USER)
    failing = api.post("/api/accounts/shop-b/check").json()
    assert failing["state"] == "failing" and failing["state_reason"].startswith("credentials_refused")
    assert api.post("/api/accounts/default/check").json()["state"] == "active"  # the other account is untouched
    avito_accounts.revoked.clear()
    back = api.post("/api/accounts/shop-b/check").json()
    assert back["state"] == "active" and back["state_reason"] == ""


def test_pause_and_resume_change_the_state(api, avito_accounts):
    create_b(api)
    assert api.post("/api/accounts/shop-b/pause").json()["state"] == "paused"
    assert api.post("/api/accounts/shop-b/check").json()["state"] == "paused"  # a check does not resume it
    assert api.post("/api/accounts/shop-b/resume").json()["state"] == "active"


def test_delete_unsubscribes_the_webhook_disables_the_account_and_keeps_it(api, avito_accounts, settings):
    settings.PUBLIC_BASE_URL = "https://gw.example"
    create_b(api)
    avito_accounts.mock.post(f"{AVITO}/messenger/v1/webhook/unsubscribe", json={"ok": True})
    secret = Account.objects.get(slug="shop-b").webhook_secret
    answer = api.delete("/api/accounts/shop-b")
    assert answer.status_code == 200
    assert answer.json()["state"] == "disabled" and answer.json()["state_reason"] == "deleted; webhook unsubscribed"
    unsubscribe = [c for c in avito_accounts.mock.calls if c.request.url.endswith("/webhook/unsubscribe")]
    assert json.loads(unsubscribe[0].request.body) == {"url": f"https://gw.example/webhook/avito/{secret}"}
    assert unsubscribe[0].request.headers["Authorization"].startswith(f"Bearer tok-{B_USER}-")
    assert api.post("/api/accounts/shop-b/resume").status_code == 409
    assert Account.objects.filter(slug="shop-b").exists()


def test_unknown_account_is_a_404_envelope(api):
    answer = api.get("/api/accounts/nope")
    assert answer.status_code == 404 and answer.json()["error"]["code"] == "not_found"
