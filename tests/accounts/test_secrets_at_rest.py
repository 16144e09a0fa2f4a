"""Secrets at rest: sealed with ENCRYPTION_KEYS, rotated by a command, never in a repr or a log line,
and a gateway holding sealed secrets without a key refuses to start, naming the variable."""
from __future__ import annotations

import logging

import pytest
from cryptography.fernet import Fernet
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from accounts.encryption import EncryptionKeyMissing
from accounts.models import Account
from avitogw.startup import refuse_unreadable_secrets
from core.log_redaction import RedactSecrets, configured_secrets
from messenger.avito.credentials import AvitoCredentials

pytestmark = pytest.mark.django_db
SECRET = "the-client-secret-of-b"


def sealed_account() -> Account:
    account = Account(slug="shop-b", avito_user_id=7000002, client_id="client-b")
    account.set_client_secret(SECRET)
    account.save()
    return account


def test_the_secret_is_stored_encrypted_and_read_back():
    account = sealed_account()
    stored = Account.objects.values_list("client_secret", flat=True).get(pk=account.pk)
    assert SECRET not in stored and stored.startswith("gAAAA")  # a Fernet token
    assert Account.objects.get(pk=account.pk).client_secret_plain() == SECRET


def test_rotation_reencrypts_with_the_first_key_so_the_old_one_can_go(settings, encryption_key):
    account = sealed_account()
    before = Account.objects.get(pk=account.pk).client_secret
    new_key = Fernet.generate_key().decode()
    settings.ENCRYPTION_KEYS = [new_key, encryption_key]
    call_command("rotate_encryption_keys", stdout=open("/dev/null", "w"))
    after = Account.objects.get(pk=account.pk)
    assert after.client_secret != before
    settings.ENCRYPTION_KEYS = [new_key]  # the old key dropped
    assert after.client_secret_plain() == SECRET


def test_without_the_right_key_reading_fails_naming_encryption_keys(settings):
    account = sealed_account()
    settings.ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(EncryptionKeyMissing, match="ENCRYPTION_KEYS"):
        Account.objects.get(pk=account.pk).client_secret_plain()
    settings.ENCRYPTION_KEYS = []
    with pytest.raises(EncryptionKeyMissing, match="ENCRYPTION_KEYS"):
        Account(slug="x").set_client_secret("s")


def test_sealed_secrets_and_no_key_stop_the_start(settings):
    settings.ENCRYPTION_KEYS = []
    refuse_unreadable_secrets()  # nothing sealed yet: an existing single-account install starts
    assert not [e for e in checks.run_checks(databases=["default"]) if e.id == "accounts.E001"]
    settings.ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    sealed_account()
    settings.ENCRYPTION_KEYS = []
    with pytest.raises(ImproperlyConfigured, match="ENCRYPTION_KEYS"):
        refuse_unreadable_secrets()
    (error,) = [e for e in checks.run_checks(databases=["default"]) if e.id == "accounts.E001"]
    assert "ENCRYPTION_KEYS" in error.msg


def test_secrets_stay_out_of_reprs_and_logs(monkeypatch, encryption_key):
    account = sealed_account()
    assert SECRET not in repr(account) and SECRET not in str(account)
    credentials = AvitoCredentials(store_key="1", client_id="c", client_secret=SECRET, user_id=1,
                                   rate_limit_requests=1, rate_limit_window=1)
    assert SECRET not in repr(credentials)
    monkeypatch.setenv("ENCRYPTION_KEYS", f"{encryption_key},{Fernet.generate_key().decode()}")
    assert encryption_key in configured_secrets()
    record = logging.LogRecord("x", logging.INFO, __file__, 1, f"key {encryption_key} client_secret={SECRET}",
                               None, None)
    RedactSecrets().filter(record)
    assert encryption_key not in record.getMessage() and SECRET not in record.getMessage()
