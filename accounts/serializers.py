"""What the accounts API takes and answers: an account without its secrets, and the create/update bodies."""
from __future__ import annotations

from django.core.validators import RegexValidator
from rest_framework import serializers

from accounts.models import SLUG_PATTERN, Account
from core.api.fields import HttpUrlField, StrictCharField, StrictSerializer


class AccountAnswer(serializers.ModelSerializer):
    """An account as the API shows it: never `client_secret`, never `webhook_secret`."""

    n8n_webhook_url = serializers.CharField(read_only=True, help_text="empty: N8N_WEBHOOK_URL")

    class Meta:
        model = Account
        fields = ["slug", "name", "avito_user_id", "client_id", "n8n_webhook_url", "rate_limit_requests",
                  "rate_limit_window", "metadata", "state", "state_reason", "last_ok_at", "created_at", "updated_at"]
        read_only_fields = fields


class AccountList(serializers.Serializer):
    accounts = AccountAnswer(many=True)


def _object(value):
    if not isinstance(value, dict):
        raise serializers.ValidationError("Must be a JSON object.")
    return value


class AccountWrite(StrictSerializer):
    """Writable fields of PATCH (each optional); `client_secret` is write-only. Unknown fields are refused."""

    name = StrictCharField(max_length=200, required=False, allow_blank=True)
    client_id = StrictCharField(max_length=200, required=False)
    client_secret = StrictCharField(required=False, write_only=True, trim_whitespace=False,
                                    style={"input_type": "password"})
    avito_user_id = serializers.IntegerField(min_value=1, required=False)
    n8n_webhook_url = HttpUrlField(max_length=500, required=False, allow_blank=True)
    metadata = serializers.JSONField(required=False, validators=[_object])
    rate_limit_requests = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    rate_limit_window = serializers.FloatField(min_value=0.001, required=False, allow_null=True)


class AccountCreate(AccountWrite):
    slug = StrictCharField(max_length=40, validators=[
        RegexValidator(SLUG_PATTERN, "Lowercase letters, digits and '-', 1 to 40 characters.")])
    client_id = StrictCharField(max_length=200)
    client_secret = StrictCharField(write_only=True, trim_whitespace=False, style={"input_type": "password"})



