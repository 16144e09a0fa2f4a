"""The names of the webhooks app's Celery tasks, written once: its tasks register under them, its services
wake them by name (core.work.wakeups) and the settings route and schedule them. No imports, so
the settings can read it.
"""

EVENTS_DRAIN = "webhooks.tasks.events_drain"
DELIVERY_ATTEMPT = "webhooks.tasks.delivery_attempt"
