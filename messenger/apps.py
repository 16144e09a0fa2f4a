"""App config of `messenger`: the Avito client, chats, messages and single sends.

Its writes that may be kept while the database is unreachable (a sent message, an
Idempotency-Key's outcome) are registered with core.pending_writes, so any process can
replay them.
"""
from django.apps import AppConfig


class MessengerConfig(AppConfig):
    name = "messenger"
    verbose_name = "Avito Messenger"

    def ready(self) -> None:
        from core.pending_writes import register_replay
        from messenger.services.idempotency import OUTCOME, idempotency_outcome_store
        from messenger.services.messages import SENT_MESSAGE, sent_message_store

        register_replay(SENT_MESSAGE, sent_message_store)
        register_replay(OUTCOME, idempotency_outcome_store)
