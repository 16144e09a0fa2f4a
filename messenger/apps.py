"""App config of `messenger`."""
from django.apps import AppConfig


class MessengerConfig(AppConfig):
    name = "messenger"
    verbose_name = "Avito Messenger"
