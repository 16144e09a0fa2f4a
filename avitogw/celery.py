"""The Celery app `avitogw`: `celery -A avitogw worker` and `celery -A avitogw beat`.

Configuration comes from Django settings (CELERY_*); tasks are found in each app's
`tasks` module. Celery messages are only wake-up calls: the rows are the source of truth.

A database restart must not cost a task: a worker checks its persistent connection before
each task (CONN_HEALTH_CHECKS, on in worker processes only: the web process saves that
round trip), and a task whose connection breaks while it runs is run once more on a new
connection as soon as the database answers (DatabaseRetryTask). Running a task twice is
harmless: each one claims its rows before acting on them.
"""
import logging
import os
import time

from celery import Celery, Task, signals
from kombu.transport import TRANSPORT_ALIASES

# The embedded broker (`sqla+...` URLs) is kombu's SQLAlchemy transport with core/broker.py's
# channel; registered by name, so SQLAlchemy is imported only by a process that uses it.
TRANSPORT_ALIASES["sqla"] = TRANSPORT_ALIASES["sqlalchemy"] = "core.broker:Transport"


os.environ.setdefault("DJANGO_SETTINGS_MODULE", "avitogw.settings")

logger = logging.getLogger(__name__)
DATABASE_WAIT = 10.0  # seconds a task waits for a restarting database before its second run


def _wait_for_database(seconds: float) -> None:
    from django.db import connection, connections

    connections.close_all()
    deadline = time.monotonic() + seconds
    while True:
        try:
            connection.ensure_connection()
            return
        except Exception:  # noqa: BLE001 - not up yet; the second run reports what still fails
            connection.close()
            if time.monotonic() > deadline:
                return
            time.sleep(0.25)


class DatabaseRetryTask(Task):
    """Runs the task once more when its database connection broke (a restart, a dropped connection)."""

    def __call__(self, *args, **kwargs):
        from django.db import InterfaceError, OperationalError, connection

        try:
            return super().__call__(*args, **kwargs)
        except (OperationalError, InterfaceError) as exc:
            if self.request.is_eager or connection.in_atomic_block:
                raise
            logger.warning("%s met a broken database connection (%s); running it again on a new one",
                           self.name, exc.__class__.__name__)
            _wait_for_database(DATABASE_WAIT)
            return super().__call__(*args, **kwargs)


app = Celery("avitogw", task_cls=DatabaseRetryTask)
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
    from core.logs import log_context_set

    _task_log_context[task_id] = log_context_set(task_id=task_id)


@signals.task_postrun.connect
def task_log_context_end(task_id=None, **_kwargs) -> None:
    from core.logs import log_context_reset

    token = _task_log_context.pop(task_id, None)
    if token is not None:
        log_context_reset(token)


@signals.worker_process_shutdown.connect
def metrics_process_ended(pid=None, **_kwargs) -> None:
    """A pool process ends: prometheus_client's multiprocess mode forgets its live gauges (its counts stay)."""
    from core.metrics import metrics_process_dead

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


@signals.worker_init.connect
@signals.worker_process_init.connect
def check_connections_before_tasks(**_kwargs) -> None:
    """Worker processes ping a persistent connection before a task uses it (Django's
    CONN_HEALTH_CHECKS), so a connection the database dropped is replaced, not failed on."""
    from django.conf import settings
    from django.db import connections

    settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    for connection in connections.all(initialized_only=True):
        connection.settings_dict["CONN_HEALTH_CHECKS"] = True
        connection.health_check_enabled = True
