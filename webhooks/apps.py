"""App config of `webhooks`: its kinds of work are registered with the engine's sweep."""
from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Incoming webhooks and n8n deliveries"

    def ready(self) -> None:
        from core.work.sweep import register
        from webhooks.delivery import DELIVERIES
        from webhooks.processing import EVENTS

        register(EVENTS)
        register(DELIVERIES)
