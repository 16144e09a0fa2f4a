"""The reconcile app's Celery task names, written once (why a module of its own: core/work/task_names.py)."""

RECONCILE_TICK = "reconcile.tasks.reconcile_tick"
