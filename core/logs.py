"""Log lines an operator can use: plain text or one JSON object per line (LOG_FORMAT), each with the
ids of what it is about, never with a secret.

- The ids (`request_id`, `event_id`, `job_id`, `task_id`) live in a context variable: the
  request-id middleware, the Celery task signals and the services set them for the work at
  hand (`log_context`, `log_context_add`), and `ContextFilter` copies them onto every record.
- No secret reaches a formatter: the handler's first filter (core.log_redaction) has
  already replaced them in the message and the traceback.
- `QuietRoutine` turns Celery's own lines about the periodic sweeps (sent by beat, received
  and succeeded in the worker) into DEBUG: every 15 s at INFO they drowned everything else.
  A sweep that finds work says so itself, at INFO.

`logging_config` is the one dictConfig of every process: Django's LOGGING, Celery's
`setup_logging` signal (avitogw.celery) and gunicorn's `logconfig_dict` (gunicorn.conf.py).
"""
from __future__ import annotations

import json
import logging
from contextlib import contextmanager
from contextvars import ContextVar, Token
from datetime import datetime, timezone
from typing import Iterator

CONTEXT_KEYS = ("request_id", "event_id", "job_id", "task_id")
_context: ContextVar[dict[str, str]] = ContextVar("avitogw_log_context", default={})

CELERY_ROUTINE_LOGGERS = ("celery.beat", "celery.worker.strategy", "celery.app.trace")


def log_context_set(**ids) -> Token:
    """Add ids to the current context; undo with `log_context_reset(token)`."""
    return _context.set({**_context.get(), **{key: str(value) for key, value in ids.items() if value is not None}})


def log_context_reset(token: Token) -> None:
    _context.reset(token)


def log_context_add(**ids) -> None:
    """Add ids for the rest of the current scope (a request, a task), which ends by resetting it."""
    log_context_set(**ids)


@contextmanager
def log_context(**ids) -> Iterator[None]:
    token = log_context_set(**ids)
    try:
        yield
    finally:
        log_context_reset(token)


def current_log_context() -> dict[str, str]:
    return dict(_context.get())


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.log_context = current_log_context()
        return True


class QuietRoutine(logging.Filter):
    """Celery's INFO lines about the periodic sweeps become DEBUG (dropped unless LOG_LEVEL=DEBUG).

    `tasks`: the names that make a line routine, beat's entries and their tasks (the settings
    pass CELERY_BEAT_SCHEDULE's, so the kernel names no app's task).
    """

    def __init__(self, tasks: tuple[str, ...] = ()):
        super().__init__()
        self.tasks = tuple(tasks)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.INFO or not record.name.startswith(CELERY_ROUTINE_LOGGERS):
            return True
        message = record.getMessage()
        if not any(task in message for task in self.tasks):
            return True
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)


class TextFormatter(logging.Formatter):
    """`time LEVEL logger message [request_id=... event_id=...]`."""

    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        ids = getattr(record, "log_context", None) or {}
        if ids:
            text += " [" + " ".join(f"{key}={ids[key]}" for key in CONTEXT_KEYS if key in ids) + "]"
        return text


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the ids in context, the traceback if any."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, tz=timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **(getattr(record, "log_context", None) or {}),
            "process": record.process,
        }
        if record.exc_text:  # formatted, and redacted, by core.log_redaction's filter
            entry["exception"] = record.exc_text
        elif record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


FORMATTERS = {"text": "core.logs.TextFormatter", "json": "core.logs.JsonFormatter"}


def logging_config(*, log_format: str, level: str, routine_tasks: tuple[str, ...] = ()) -> dict:
    """The dictConfig of every process: one handler on stderr, the chosen format, ids and quiet sweeps."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": "core.logs.ContextFilter"},
                    "quiet_routine": {"()": "core.logs.QuietRoutine", "tasks": tuple(routine_tasks)},
                    # Every secret, the webhook's path secret above all (core/log_redaction.py).
                    "redact_secrets": {"()": "core.log_redaction.RedactSecrets"}},
        "formatters": {"gateway": {"()": FORMATTERS[log_format]}},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "gateway",
                                 "filters": ["redact_secrets", "context", "quiet_routine"]}},
        "root": {"handlers": ["console"], "level": level.upper()},
        # Django's own handlers for `django` (a console one under DEBUG, mail_admins) would bypass the
        # filter: its lines go to the root's handler instead.
        "loggers": {"django": {"handlers": [], "level": "INFO", "propagate": True}},
    }
