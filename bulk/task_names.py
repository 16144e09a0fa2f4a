"""The names of the bulk app's Celery tasks, written once: its tasks register under them, its services
wake them by name (core.work.wakeups) and the settings route and schedule them. No imports, so
the settings can read it.
"""

BULK_ITEM_SEND = "bulk.tasks.bulk_item_send"
BULK_ITEM_RESOLVE = "bulk.tasks.bulk_item_resolve"
BULK_JOB_CALLBACK = "bulk.tasks.bulk_job_callback"
