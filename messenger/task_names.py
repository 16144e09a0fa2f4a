"""The names of the messenger app's Celery tasks, written once: its tasks register under them, its services
wake them by name (core.work.wakeups) and the settings route and schedule them. No imports, so
the settings can read it.
"""

TOKEN_REFRESH = "messenger.tasks.token_refresh"
