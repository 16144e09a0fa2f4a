"""The admin's Accounts: the secret is write-only (never rendered, kept when left empty), and
"check" needs its own permission."""
from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from accounts.models import Account
from tests.accounts.conftest import B_ID, B_SECRET, B_USER

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/accounts/account/"


def log_in(client, django_user_model, *codenames: str):
    user = django_user_model.objects.create_user("staff", password="pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    client.force_login(user)
    return client


def form(**fields) -> dict:
    return {"slug": "shop-b", "name": "B", "avito_user_id": B_USER, "client_id": B_ID, "n8n_webhook_url": "",
            "rate_limit_requests": "", "rate_limit_window": "", "metadata": "{}", "state": "active",
            "state_reason": "", **fields}


def test_the_secret_is_write_only_and_kept_when_left_empty(admin_client):
    assert admin_client.post(f"{CHANGELIST}add/", form(new_client_secret=B_SECRET)).status_code == 302
    account = Account.objects.get(slug="shop-b")
    assert account.client_secret_plain() == B_SECRET
    page = admin_client.get(f"{CHANGELIST}{account.pk}/change/").content.decode()
    assert B_SECRET not in page and account.client_secret not in page
    assert admin_client.post(f"{CHANGELIST}{account.pk}/change/", form(name="B2", new_client_secret="")).status_code == 302
    account.refresh_from_db()
    assert account.name == "B2" and account.client_secret_plain() == B_SECRET
    listing = admin_client.get(CHANGELIST).content.decode()
    assert "shop-b" in listing and "default" in listing  # the environment's account shows too


def test_metadata_must_be_an_object(admin_client):
    answer = admin_client.post(f"{CHANGELIST}add/", form(new_client_secret=B_SECRET, metadata="[1]"))
    assert answer.status_code == 200 and not Account.objects.filter(slug="shop-b").exists()


def test_check_needs_its_own_permission(client, django_user_model, avito_accounts):
    account = Account(slug="shop-b", avito_user_id=B_USER, client_id=B_ID)
    account.set_client_secret(B_SECRET)
    account.save()
    avito_accounts.revoked.add(B_USER)
    viewer = log_in(client, django_user_model, "view_account")
    assert 'value="check_accounts"' not in viewer.get(CHANGELIST).content.decode()
    viewer.post(CHANGELIST, {"action": "check_accounts", "_selected_action": [account.pk], "index": "0"})
    account.refresh_from_db()
    assert account.state == "active" and not avito_accounts.mock.calls

    django_user_model.objects.get(username="staff").user_permissions.add(
        Permission.objects.get(codename="check_account"))
    assert viewer.post(CHANGELIST, {"action": "check_accounts", "_selected_action": [account.pk]}).status_code == 302
    account.refresh_from_db()
    assert account.state == "failing" and account.state_reason.startswith("credentials_refused")
