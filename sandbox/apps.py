"""Django app entry for the Avito sandbox (it has no models; Django only hosts its command)."""

from django.apps import AppConfig


class SandboxConfig(AppConfig):
    name = "sandbox"
    verbose_name = "Avito sandbox"
    default_auto_field = "django.db.models.BigAutoField"
