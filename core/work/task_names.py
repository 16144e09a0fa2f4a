"""The names of the engine's Celery tasks, written once: its tasks register under them, its services
wake them by name (core.work.wakeups) and the settings route and schedule them. No imports, so
the settings can read it.
"""

WORK_SWEEP = "core.work.sweep"
