"""App config of `messenger`: bulk sends' kinds of work are registered with the engine's sweep."""
from django.apps import AppConfig


class MessengerConfig(AppConfig):
    name = "messenger"
    verbose_name = "Avito Messenger"

    def ready(self) -> None:
        from avitogw.work.sweep import register, register_chore
        from messenger.bulk.sending import CHECKS, SENDS
        from messenger.bulk.services import CALLBACKS, bulk_jobs_tidy

        for work in (SENDS, CHECKS, CALLBACKS):
            register(work)
        register_chore("bulk jobs tidied", bulk_jobs_tidy)
