"""The bulk app's Celery task names, written once (why a module of its own: core/work/task_names.py)."""

BULK_ITEM_SEND = "bulk.tasks.bulk_item_send"
BULK_ITEM_RESOLVE = "bulk.tasks.bulk_item_resolve"
BULK_JOB_CALLBACK = "bulk.tasks.bulk_job_callback"
