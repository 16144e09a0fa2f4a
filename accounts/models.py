"""The Account: one Avito account the gateway serves, with its credentials, limits and state (contract §8).

`client_secret` holds the secret encrypted (accounts.encryption), never the secret itself:
`set_client_secret` seals it, `client_secret_plain` opens it. The environment's account
(`default`) keeps its secret in the environment (AVITO_CLIENT_SECRET), so its column is empty.
"""
from __future__ import annotations

import secrets

from django.core.validators import RegexValidator
from django.db import models

from accounts import encryption

SLUG_PATTERN = r"^[a-z0-9-]{1,40}$"
DEFAULT_SLUG = "default"


def new_webhook_secret() -> str:
    return secrets.token_urlsafe(32)


class AccountState(models.TextChoices):
    ACTIVE = "active", "active"
    PAUSED = "paused", "paused"
    FAILING = "failing", "failing"
    DISABLED = "disabled", "disabled"


class Account(models.Model):
    slug = models.CharField(max_length=40, unique=True, validators=[RegexValidator(
        SLUG_PATTERN, "Lowercase letters, digits and '-', 1 to 40 characters.")],
        help_text="the account's path segment: lowercase letters, digits and '-'")
    name = models.CharField(max_length=200, blank=True)
    avito_user_id = models.BigIntegerField(unique=True, help_text="the Avito user id of the account")
    client_id = models.CharField(max_length=200)
    client_secret = models.TextField(blank=True, help_text="encrypted with ENCRYPTION_KEYS; empty for `default`")
    webhook_secret = models.CharField(max_length=100, unique=True, default=new_webhook_secret)
    n8n_webhook_url = models.URLField(max_length=500, blank=True, help_text="empty: N8N_WEBHOOK_URL")
    rate_limit_requests = models.PositiveIntegerField(null=True, blank=True, help_text="empty: RATE_LIMIT_REQUESTS")
    rate_limit_window = models.FloatField(null=True, blank=True, help_text="seconds; empty: RATE_LIMIT_WINDOW")
    metadata = models.JSONField(default=dict, blank=True, help_text="a JSON object, echoed in the account's events")
    state = models.CharField(max_length=10, choices=AccountState.choices, default=AccountState.ACTIVE)
    state_reason = models.CharField(max_length=500, blank=True)
    last_ok_at = models.DateTimeField(null=True, blank=True, help_text="when Avito last accepted its credentials")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["slug"]
        permissions = [("check_account", "Can check an account's credentials with Avito")]

    def __str__(self) -> str:
        return self.slug

    def __repr__(self) -> str:  # the sealed secret stays out of reprs too
        return f"<Account {self.slug} ({self.state})>"

    @property
    def from_environment(self) -> bool:
        return self.slug == DEFAULT_SLUG

    def set_client_secret(self, plain: str) -> None:
        self.client_secret = encryption.encrypt(plain)

    def client_secret_plain(self) -> str:
        return encryption.decrypt(self.client_secret) if self.client_secret else ""
