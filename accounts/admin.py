"""Admin of accounts: the list with state and last_ok_at; a form whose secret is write-only; a "check" action.

The secret field is a password input that never renders the stored value and, left empty,
keeps it. The encrypted column itself is never shown. The check action needs its own
permission (`accounts.check_account`), as it calls Avito and may change the state.
"""
from __future__ import annotations

from django import forms
from django.contrib import admin, messages

from accounts import services
from accounts.environment import default_account_sync
from accounts.models import Account
from core.errors import GatewayError
from messenger.avito.errors import AvitoError

CHECK_PERMISSION = "accounts.check_account"


class AccountForm(forms.ModelForm):
    new_client_secret = forms.CharField(
        label="Client secret", required=False, strip=False, widget=forms.PasswordInput(render_value=False),
        help_text="Write-only: leave empty to keep the stored secret. Not used by `default` (AVITO_CLIENT_SECRET).")
    n8n_webhook_url = forms.URLField(required=False, max_length=500, assume_scheme="https",
                                     help_text="empty: N8N_WEBHOOK_URL")

    class Meta:
        model = Account
        fields = ["slug", "name", "avito_user_id", "client_id", "n8n_webhook_url", "rate_limit_requests",
                  "rate_limit_window", "metadata", "state", "state_reason"]

    def clean_metadata(self):
        metadata = self.cleaned_data.get("metadata")
        if metadata is not None and not isinstance(metadata, dict):
            raise forms.ValidationError("Must be a JSON object.")
        return metadata or {}

    def clean(self):
        cleaned = super().clean()
        if not self.instance.pk and not cleaned.get("new_client_secret") and cleaned.get("slug") != "default":
            self.add_error("new_client_secret", "A new account needs its client secret.")
        return cleaned

    def save(self, commit=True):
        account = super().save(commit=False)
        secret = self.cleaned_data.get("new_client_secret")
        if secret:
            account.set_client_secret(secret)
        if commit:
            account.save()
        return account


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    form = AccountForm
    list_display = ["slug", "name", "avito_user_id", "state", "state_reason", "last_ok_at"]
    list_filter = ["state"]
    search_fields = ["slug", "name", "avito_user_id"]
    readonly_fields = ["last_ok_at", "created_at", "updated_at"]
    actions = ["check_accounts"]

    def get_queryset(self, request):
        default_account_sync()  # the environment's account shows as soon as anyone looks
        return super().get_queryset(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # a row delete would lose its history: DELETE /api/accounts/{slug} disables it instead

    def has_check_permission(self, request) -> bool:
        return request.user.has_perm(CHECK_PERMISSION)

    @admin.action(description="Check the credentials of the selected accounts with Avito", permissions=["check"])
    def check_accounts(self, request, queryset):
        for account in queryset:
            try:
                services.account_check(account=account)
            except (AvitoError, GatewayError) as exc:
                self.message_user(request, f"{account.slug}: {getattr(exc, 'message', exc)}", messages.ERROR)
                continue
            level = messages.SUCCESS if account.state != "failing" else messages.WARNING
            self.message_user(request, f"{account.slug}: {account.state} {account.state_reason}".strip(), level)
