"""App config of `accounts`: registers the start-up check of the encryption keys."""
from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Avito accounts"

    def ready(self) -> None:
        from accounts import checks  # noqa: F401 - registers the system check
