"""App config of `webhooks`."""
from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Incoming webhooks and n8n deliveries"
