"""The webhooks app's Celery task names, written once (why a module of its own: core/work/task_names.py)."""

EVENTS_DRAIN = "webhooks.tasks.events_drain"
DELIVERY_ATTEMPT = "webhooks.tasks.delivery_attempt"
IGNORED_EVENTS_PRUNE = "webhooks.tasks.ignored_events_prune"
