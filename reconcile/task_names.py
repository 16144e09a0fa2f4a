"""The names of the reconcile app's Celery tasks, written once: its tasks register under them, its services
wake them by name (core.work.wakeups) and the settings route and schedule them. No imports, so
the settings can read it.
"""

RECONCILE_TICK = "reconcile.tasks.reconcile_tick"
