"""Our own database being unreachable, told apart from a bug, and answered 503 at the edge.

A restart, a dropped persistent connection or a server that is not up yet reaches a request as
Django's `OperationalError` / `InterfaceError`. Those are not bugs in the gateway: the caller is
told `503 dependency_unavailable` (contract §2) and may retry. A send only ever lets such an
error through before Avito was called (after Avito's answer the write is journaled instead,
core.pending_writes), so for a send this 503 means "nothing was sent".
`on_new_connection_if_dropped` spares a request the 503 when only its persistent connection
died (the server restarted since): the statement is run once more on a new connection.
`database_unavailable` is the one test both edges use (avitogw.exception_handler): the DRF
exception handler and, for the views outside DRF, `DatabaseOutageMiddleware`. Any other
database error stays a 500 (a bug).
"""
from __future__ import annotations

import sqlite3
from typing import Callable, TypeVar

from django.db import InterfaceError, OperationalError, connection

from core.errors import DependencyUnavailable

# PostgreSQL's SQLSTATEs for "the connection is gone or cannot be made yet": class 08 (connection
# exception), and the server shutting down, crashing or still starting (57P01..57P03).
LOST_CONNECTION_STATES = ("57P01", "57P02", "57P03")
# SQLite's words for a database file that cannot be used right now (another process holds the
# write lock past the timeout, the file or its folder is gone, the disk failed).
SQLITE_UNAVAILABLE = ("database is locked", "unable to open database file", "disk i/o error")
T = TypeVar("T")
MESSAGE = "The gateway's own database is unavailable; the request was not carried out. Retry later."


def connection_failed(exc: BaseException) -> bool:
    """True when `exc` says the database cannot be reached (not that a statement was wrong)."""
    if isinstance(exc, InterfaceError):
        return True
    if not isinstance(exc, OperationalError):
        return False
    cause = exc.__cause__
    if isinstance(cause, sqlite3.OperationalError):
        return any(words in str(cause).lower() for words in SQLITE_UNAVAILABLE)
    state = getattr(cause, "sqlstate", "") if cause is not None else ""
    # No SQLSTATE: psycopg's own failure to connect, or a connection the server closed under it.
    return not state or state.startswith("08") or state in LOST_CONNECTION_STATES


def database_unavailable(exc: BaseException) -> DependencyUnavailable | None:
    """The 503 to answer for `exc`, when it is the database being unreachable; else None."""
    if not connection_failed(exc):
        return None
    return DependencyUnavailable(MESSAGE, details={"dependency": "database", "cause": exc.__class__.__name__},
                                 headers={"Retry-After": "5"})



def on_new_connection_if_dropped(run: Callable[[], T]) -> T:
    """`run()`, and once more on a new connection if the database connection failed (after a restart
    every persistent connection is dead, while the server may be up again). `run` must be safe to
    repeat; inside a transaction nothing is repeated (the transaction is lost with the connection)."""
    try:
        return run()
    except (OperationalError, InterfaceError) as exc:
        if not connection_failed(exc) or connection.in_atomic_block:
            raise
        connection.close()  # else Django would hand the broken one out again
    return run()
