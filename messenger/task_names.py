"""The messenger app's Celery task names, written once (why a module of its own: core/work/task_names.py)."""

TOKEN_REFRESH = "messenger.tasks.token_refresh"
