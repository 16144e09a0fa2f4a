"""Our database going down inside one test's process, at the moment the test chooses.

`DatabaseOutage` is installed with Django's `connection.execute_wrapper` on the test thread's
connection: while it is down, every statement fails as PostgreSQL's client fails when the
server is gone (an OperationalError from psycopg, with no SQLSTATE). It goes down when told
(`down()`), or at the first statement that `trip_on` matches (the rate limiter's, say), and comes
back with `up()`. Other threads' connections (the replay thread's) are not affected.
The tests that use it need `django_db(transaction=True)`: a write kept for later closes the
broken connection, which a test's own transaction would not survive.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator

import psycopg
from django.db import OperationalError, connection


class DatabaseOutage:
    def __init__(self):
        self.is_down = False
        self.trip_on: Callable[[str], bool] | None = None
        self.refused = 0  # statements refused while down

    def down(self) -> None:
        self.is_down = True

    def up(self) -> None:
        self.is_down, self.trip_on = False, None

    def __call__(self, execute, sql, params, many, context):
        if not self.is_down and self.trip_on is not None and self.trip_on(str(sql)):
            self.is_down = True
        if self.is_down:
            self.refused += 1
            cause = psycopg.OperationalError("connection failed: Connection refused")
            raise OperationalError(str(cause)) from cause
        return execute(sql, params, many, context)


@contextmanager
def database_outage() -> Iterator[DatabaseOutage]:
    outage = DatabaseOutage()
    with connection.execute_wrapper(outage):
        yield outage
