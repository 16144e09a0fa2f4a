"""The Celery app `avitogw`: `celery -A avitogw worker` and `celery -A avitogw beat`.

Configuration comes from Django settings (CELERY_*); tasks are found in each app's
`tasks` module. Celery messages are only wake-up calls: the rows are the source of truth.
"""
import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "avitogw.settings")

app = Celery("avitogw")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.setup_logging.connect
def logging_as_django(**_kwargs) -> None:
    """Worker and beat log exactly as web does (settings.LOGGING: LOG_FORMAT, LOG_LEVEL, no secrets);
    connected, this signal also keeps Celery from installing its own handlers."""
    from logging.config import dictConfig

    from django.conf import settings

    dictConfig(settings.LOGGING)


_task_log_context: dict[str, object] = {}


@signals.task_prerun.connect
def task_log_context_start(task_id=None, **_kwargs) -> None:
    """Every line a task logs carries its task id (and the ids its services add)."""
    from avitogw.logs import log_context_set

    _task_log_context[task_id] = log_context_set(task_id=task_id)


@signals.task_postrun.connect
def task_log_context_end(task_id=None, **_kwargs) -> None:
    from avitogw.logs import log_context_reset

    token = _task_log_context.pop(task_id, None)
    if token is not None:
        log_context_reset(token)


@signals.worker_process_shutdown.connect
def metrics_process_ended(pid=None, **_kwargs) -> None:
    """A pool process ends: prometheus_client's multiprocess mode forgets its live gauges (its counts stay)."""
    from avitogw.metrics import metrics_process_dead

    metrics_process_dead(pid or os.getpid())


@signals.task_postrun.connect
def close_old_connections(sender=None, **_kwargs) -> None:
    """After each task, what Django does after each request: drop connections that are broken or
    older than CONN_MAX_AGE (CELERY_DB_REUSE_MAX keeps Celery from closing every one of them).
    Not after a task run eagerly (tests): that one shares its caller's connection and transaction."""
    if getattr(getattr(sender, "request", None), "is_eager", False):
        return
    from django.db import close_old_connections as django_close_old_connections

    django_close_old_connections()
