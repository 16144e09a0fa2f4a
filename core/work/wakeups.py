"""Waking a task after the caller's transaction commits, by the task's name.

A wake-up is only a hint: the rows say what is due, and the sweep re-sends what was
lost. So a broker that is down never fails the caller (above all the incoming webhook,
which has to answer Avito): the error is logged and swallowed. Wake-ups are sent from
`transaction.on_commit` (at once outside a transaction), so a worker never looks for a
row that is not committed yet. Tasks are named, not imported: services never import
tasks, and the web process never loads the worker's code to publish.

A task that takes every due row itself (a drain) needs one wake-up per burst, not one per
row: `wake_coalesced` publishes only when no wake-up of the task is on its way (a Redis
key set with SET NX, which the task deletes with `woken` before it looks at the rows, so
a row committed after that rings again). A Celery publish costs the webhook about as much
CPU as the rest of its request, a SET NX a tenth of it (docs/benchmarks.md); redis-py's
own client, as Django's cache would cost twice that. Without Redis, or when Redis fails,
every wake-up is published.
"""
from __future__ import annotations

import logging
from functools import partial

import redis
from celery import current_app
from django.conf import settings
from django.db import transaction

from core.singleton import PerProcess

logger = logging.getLogger(__name__)

SHORT_RETRY = 300  # seconds: a retry due sooner is woken with a Celery countdown, a later one by the sweep
BELL_TTL = 10  # seconds: a wake-up lost with a killed worker holds back the next one this long at most
BELL_TIMEOUT = 0.5  # seconds: the webhook answers Avito within 2 s, whatever Redis does


def wake(task: str, *args, countdown: float | None = None, **options) -> None:
    """Queue `task` (its registered name) with `args` once the current transaction commits."""
    transaction.on_commit(partial(wake_now, task, *args, countdown=countdown, **options))


def wake_now(task: str, *args, countdown: float | None = None, **options) -> bool:
    """Queue `task` now (the caller has nothing uncommitted that the task must see); False if the
    broker refused it."""
    app = current_app
    try:
        if app.conf.task_always_eager:  # tests: run it here, as Celery's own eager mode would
            if task not in app.tasks:
                app.loader.import_default_modules()  # what a worker imports when it starts
            app.tasks[task].apply_async(args, countdown=countdown, **options)
        else:
            app.send_task(task, args=args, countdown=countdown or None, **options)
        return True
    except Exception:  # noqa: BLE001 (any broker failure; the sweep re-sends)
        if app.conf.task_always_eager and app.conf.task_eager_propagates:
            raise
        logger.exception("Could not queue %s%s; the sweep will pick it up", task, args)
        return False


def wake_coalesced(task: str) -> None:
    """Wake `task` (no arguments) once the current transaction commits, unless a wake-up of it is on its way."""
    transaction.on_commit(partial(_ring, task))


def woken(task: str) -> None:
    """`task` starts: wake-ups from now on must be published again. Call it before looking at the rows."""
    if not settings.REDIS_URL:
        return
    try:
        _redis().delete(_bell(task))
    except Exception:  # noqa: BLE001 (the bell expires by itself after BELL_TTL)
        logger.warning("Could not clear the wake-up bell of %s", task, exc_info=True)


def _ring(task: str) -> None:
    if settings.REDIS_URL:
        try:
            if not _redis().set(_bell(task), 1, nx=True, ex=BELL_TTL):
                return  # a wake-up is on its way, and its task has not started looking yet
        except Exception:  # noqa: BLE001 (no bell: publish, as without Redis)
            logger.warning("The wake-up bell of %s failed; publishing the wake-up", task, exc_info=True)
            wake_now(task)
            return
    if wake_now(task) is False and settings.REDIS_URL:
        woken(task)  # nothing is on its way after all: the next stored row must ring again


def _bell(task: str) -> str:
    return f"avitogw:wake:{settings.DATABASES['default']['NAME']}:{task}"  # about this database's rows


# This process's Redis client (its pool drops a broken connection and connects anew on next use).
_client: PerProcess[redis.Redis] = PerProcess(lambda: redis.Redis.from_url(
    settings.REDIS_URL, socket_timeout=BELL_TIMEOUT, socket_connect_timeout=BELL_TIMEOUT),
    key=lambda: settings.REDIS_URL)


def _redis() -> redis.Redis:
    return _client.get()
