"""App config of `bulk`: its kinds of work (sends, checks, callbacks) are registered with the engine's sweep."""
from django.apps import AppConfig


class BulkConfig(AppConfig):
    name = "bulk"
    verbose_name = "Bulk sends"

    def ready(self) -> None:
        from core.work.sweep import register, register_chore
        from bulk.sending import CHECKS, SENDS
        from bulk.services import CALLBACKS, bulk_jobs_tidy

        for work in (SENDS, CHECKS, CALLBACKS):
            register(work)
        register_chore("bulk jobs tidied", bulk_jobs_tidy)
