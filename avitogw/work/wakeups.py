"""Waking a task after the caller's transaction commits, by the task's name.

A wake-up is only a hint: the rows say what is due, and the sweep re-sends what was
lost. So a broker that is down never fails the caller (above all the incoming webhook,
which has to answer Avito): the error is logged and swallowed. Wake-ups are sent from
`transaction.on_commit` (at once outside a transaction), so a worker never looks for a
row that is not committed yet. Tasks are named, not imported: services never import
tasks, and the web process never loads the worker's code to publish.
"""
from __future__ import annotations

import logging
from functools import partial

from celery import current_app
from django.db import transaction

logger = logging.getLogger(__name__)


def wake(task: str, *args, countdown: float | None = None, **options) -> None:
    """Queue `task` (its registered name) with `args` once the current transaction commits."""
    transaction.on_commit(partial(wake_now, task, *args, countdown=countdown, **options))


def wake_now(task: str, *args, countdown: float | None = None, **options) -> None:
    """Queue `task` now (the caller has nothing uncommitted that the task must see)."""
    app = current_app
    try:
        if app.conf.task_always_eager:  # tests: run it here, as Celery's own eager mode would
            if task not in app.tasks:
                app.loader.import_default_modules()  # what a worker imports when it starts
            app.tasks[task].apply_async(args, countdown=countdown, **options)
        else:
            app.send_task(task, args=args, countdown=countdown or None, **options)
    except Exception:  # noqa: BLE001 (any broker failure; the sweep re-sends)
        if app.conf.task_always_eager and app.conf.task_eager_propagates:
            raise
        logger.exception("Could not queue %s%s; the sweep will pick it up", task, args)
