"""App config of `messenger`: the Avito client, chats, messages and single sends."""
from django.apps import AppConfig


class MessengerConfig(AppConfig):
    name = "messenger"
    verbose_name = "Avito Messenger"
